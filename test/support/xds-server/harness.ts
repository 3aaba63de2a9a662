// Test support: a DiscoveryServer with the fake translator on a real gRPC port (127.0.0.1:0), clients
// that are closed with it, and decoders for response resources.

import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import type { Client } from '@grpc/grpc-js';
import { DiscoveryServer, type DiscoveryServerOptions } from '../../../src/xds-server/ads-server.js';
import { listenAds, type AdsListener } from '../../../src/xds-server/grpc-listen.js';
import { ClusterSchema } from '../../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../../src/xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import { adsClient } from './ads-client.js';
import { fakeTranslate } from './fake-mesh.js';

export interface Harness {
  readonly ds: DiscoveryServer;
  readonly ads: AdsListener;
  client(): Client;
  close(): Promise<void>;
}

export async function startHarness(opts: Partial<DiscoveryServerOptions> = {}): Promise<Harness> {
  const ds = new DiscoveryServer({ translate: fakeTranslate, ...opts });
  const ads = await listenAds(ds, { port: 0 });
  const clients: Client[] = [];
  return {
    ds,
    ads,
    client: () => {
      const c = adsClient(ads.address);
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.close();
      await ads.close();
    },
  };
}

export function clusterNames(resources: readonly Any[]): string[] {
  return resources.map((a) => anyUnpack(a, ClusterSchema)?.name ?? '<not a Cluster>');
}

export function listenerNames(resources: readonly Any[]): string[] {
  return resources.map((a) => anyUnpack(a, ListenerSchema)?.name ?? '<not a Listener>');
}

export function loadAssignments(resources: readonly Any[]): ClusterLoadAssignment[] {
  return resources.map((a) => {
    const cla = anyUnpack(a, ClusterLoadAssignmentSchema);
    if (cla === undefined) throw new Error(`not a ClusterLoadAssignment: ${a.typeUrl}`);
    return cla;
  });
}

/** `address:port` of every endpoint in a ClusterLoadAssignment. */
export function endpointAddresses(cla: ClusterLoadAssignment): string[] {
  return cla.endpoints.flatMap((l) =>
    l.lbEndpoints.flatMap((e) => {
      if (e.hostIdentifier.case !== 'endpoint') return [];
      const a = e.hostIdentifier.value.address?.address;
      return a?.case === 'socketAddress' ? [`${a.value.address}:${a.value.portSpecifier.case === 'portValue' ? a.value.portSpecifier.value : ''}`] : [];
    }),
  );
}
