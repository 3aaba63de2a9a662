// Child process of the control-plane benchmark: N Envoy-like SotW ADS clients on one gRPC channel.
// Each subscribes to CDS and LDS (wildcard), then to the EDS and RDS names those name, and ACKs every
// response. Prints the ms until all are synced; on `mark` (stdin), the ms until every client has
// acknowledged an EDS response that arrived after the mark.
// The names a resource leads to are computed once per distinct resource content (the clients share one
// core, where real proxies have one each; decoding 100 copies of one cluster would measure this process,
// not the server).
// Usage: ads-load-client.ts <address> <count> <ns1,ns2,...>

import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { create } from '@bufbuild/protobuf';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { Client, credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { ADS_SERVICE } from '../src/xds/ads-service.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../src/xds/type-urls.js';
import { DiscoveryRequestSchema, type DiscoveryRequest, type DiscoveryResponse } from '../src/xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { ClusterSchema } from '../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from '../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';

const [address = '', countArg = '1', nsArg = 'default'] = process.argv.slice(2);
const namespaces = nsArg.split(',');

/** What a resource names: a Cluster its EDS service name (if EDS), a Listener its RDS route names. */
const namesByContent = new Map<string, readonly string[]>();

function namesOf(a: Any, typeUrl: string): readonly string[] {
  const key = createHash('sha1').update(a.value).digest('base64');
  let names = namesByContent.get(key);
  if (names !== undefined) return names;
  if (typeUrl === CLUSTER_TYPE) {
    const c = anyUnpack(a, ClusterSchema);
    names = c?.edsClusterConfig !== undefined ? [c.edsClusterConfig.serviceName || c.name] : [];
  } else {
    const rds: string[] = [];
    for (const fc of anyUnpack(a, ListenerSchema)?.filterChains ?? [])
      for (const f of fc.filters) {
        if (f.configType.case !== 'typedConfig') continue;
        const h = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
        if (h?.routeSpecifier.case === 'rds') rds.push(h.routeSpecifier.value.routeConfigName);
      }
    names = rds;
  }
  namesByContent.set(key, names);
  return names;
}

class LoadProxy {
  private readonly call: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  private readonly names = new Map<string, string[]>();
  lastEds = 0;
  readonly ready: Promise<void>;

  constructor(client: Client, i: number) {
    const ns = namespaces[i % namespaces.length] as string;
    const m = ADS_SERVICE.StreamAggregatedResources;
    this.call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    let ready!: () => void;
    this.ready = new Promise((r) => (ready = r));
    const seen = new Set<string>();
    this.call.on('data', (res: DiscoveryResponse) => {
      const t = res.typeUrl;
      this.send(t, this.names.get(t) ?? [], res.versionInfo, res.nonce);
      if (t === CLUSTER_TYPE) {
        this.subscribe(ENDPOINT_TYPE, res.resources.flatMap((a) => namesOf(a, t)));
      } else if (t === LISTENER_TYPE) {
        this.subscribe(ROUTE_TYPE, [...new Set(res.resources.flatMap((a) => namesOf(a, t)))].sort());
      } else if (t === ENDPOINT_TYPE) this.lastEds = performance.now();
      seen.add(t);
      if (seen.size === 4) ready();
    });
    this.call.on('error', () => undefined);
    const node = { id: `sidecar~10.200.${Math.floor(i / 250)}.${i % 250}~client-${i}.${ns}~${ns}.svc.cluster.local`, metadata: { NAMESPACE: ns, LABELS: { app: `client-${i}` } } };
    this.call.write(create(DiscoveryRequestSchema, { node, typeUrl: CLUSTER_TYPE }));
    this.call.write(create(DiscoveryRequestSchema, { typeUrl: LISTENER_TYPE }));
  }

  private subscribe(typeUrl: string, names: string[]): void {
    if (JSON.stringify(this.names.get(typeUrl)) === JSON.stringify(names)) return;
    this.names.set(typeUrl, names);
    this.call.write(create(DiscoveryRequestSchema, { typeUrl, resourceNames: names }));
  }

  private send(typeUrl: string, names: string[], version: string, nonce: string): void {
    this.call.write(create(DiscoveryRequestSchema, { typeUrl, resourceNames: names, versionInfo: version, responseNonce: nonce }));
  }

  close(): void {
    this.call.end();
  }
}

// Envoy's HTTP/2 windows for its xDS stream default to 256 MiB (initial_stream_window_size,
// initial_connection_window_size); grpc-js's 64 KiB default would make every large response wait for
// window updates from this one busy process.
const client = new Client(address, credentials.createInsecure(), {
  'grpc.max_receive_message_length': 256 * 1024 * 1024,
  'grpc-node.flow_control_window': 256 * 1024 * 1024,
});
const start = performance.now();
const proxies = Array.from({ length: Number(countArg) }, (_, i) => new LoadProxy(client, i));
await Promise.all(proxies.map((p) => p.ready));
process.stdout.write(`${Math.round(performance.now() - start)}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line !== 'mark') return;
  const mark = performance.now();
  const deadline = mark + 300_000;
  const poll = (): void => {
    if (proxies.every((p) => p.lastEds > mark)) {
      process.stdout.write(`${Math.round(Math.max(...proxies.map((p) => p.lastEds)) - mark)}\n`);
    } else if (performance.now() > deadline) {
      process.stdout.write(`error: ${proxies.filter((p) => p.lastEds <= mark).length} proxies never got the change\n`);
    } else setTimeout(poll, 2);
  };
  poll();
}).on('close', () => {
  for (const p of proxies) p.close();
  client.close();
  process.exit(0);
});
