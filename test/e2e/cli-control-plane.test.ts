// `isthmus control-plane` as a user runs it: a real child process over a real folder, a real ADS client
// speaking as a sidecar, the workload API, `isthmus proxy-status`, a mistake that never reaches the
// proxy, a port already taken, and a clean stop.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { runIsthmus, startIsthmus } from '../support/cli.js';
import { waitFor } from '../support/wait.js';
import { adsClient, openSotw, sidecarNode, sotwRequest } from '../support/xds-server/ads-client.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE } from '../../src/xds/type-urls.js';
import { ClusterSchema } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../src/xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { DiscoveryResponse } from '../../src/xds/gen/envoy/service/discovery/v3/discovery_pb.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: http}]
`;
const RULE = (field: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  ${field}: [{name: v1, labels: {version: v1}}]
`;

function clusterNames(r: DiscoveryResponse): string[] {
  return r.resources.map((a) => anyUnpack(a, ClusterSchema)?.name ?? '?');
}

describe('isthmus control-plane', () => {
  it('serves the folder over ADS, follows edits and registrations, refuses mistakes, and stops cleanly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-cp-'));
    await writeFile(join(dir, 'svc.yaml'), SERVICE);
    const child = startIsthmus(['control-plane', '--config', dir, '--xds-port', '0', '--monitoring-port', '0', '--debounce', '20']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const client = { close: (): void => undefined };
    try {
      await waitFor(() => /monitoring and debug +http:\/\/\S+/.test(out), 'the control plane to start', 20_000);
      assert.match(out, /control plane serving .*: 1 resources, 1 services/);
      const xds = /xDS \(ADS, plaintext\) +(\S+)/.exec(out)?.[1] ?? '';
      const monitoring = /monitoring and debug +(\S+)/.exec(out)?.[1] ?? '';

      const grpc = adsClient(xds);
      client.close = () => grpc.close();
      const stream = openSotw(grpc);
      stream.send(sotwRequest({ node: sidecarNode('productpage-v1', 'default'), typeUrl: CLUSTER_TYPE }));
      /** The next response of `type`, ACKing any other type pushed meanwhile (a registration also changes CDS: SANs). */
      const nextOf = async (type: string, what: string): Promise<DiscoveryResponse> => {
        for (;;) {
          const r = await stream.next(what, 10_000);
          if (r.typeUrl === type) return r;
          stream.send(sotwRequest({ typeUrl: r.typeUrl, versionInfo: r.versionInfo, responseNonce: r.nonce, ...(r.typeUrl === ENDPOINT_TYPE ? { resourceNames: ['outbound|9080||reviews.default.svc.cluster.local'] } : {}) }));
        }
      };
      let cds = await nextOf(CLUSTER_TYPE, 'CDS');
      assert.ok(clusterNames(cds).includes('outbound|9080||reviews.default.svc.cluster.local'), clusterNames(cds).join(' '));
      stream.send(sotwRequest({ typeUrl: CLUSTER_TYPE, versionInfo: cds.versionInfo, responseNonce: cds.nonce }));
      stream.send(sotwRequest({ typeUrl: ENDPOINT_TYPE, resourceNames: ['outbound|9080||reviews.default.svc.cluster.local'] }));
      let eds = await nextOf(ENDPOINT_TYPE, 'EDS');
      assert.equal(anyUnpack(eds.resources[0]!, ClusterLoadAssignmentSchema)?.endpoints.length ?? 0, 0, 'no workload yet');
      stream.send(sotwRequest({ typeUrl: ENDPOINT_TYPE, resourceNames: ['outbound|9080||reviews.default.svc.cluster.local'], versionInfo: eds.versionInfo, responseNonce: eds.nonce }));

      // A workload registers through the API: its endpoint reaches the proxy, on the named target port.
      const reg = await fetch(`${monitoring}/v1/workloads`, { method: 'POST', body: JSON.stringify({ name: 'reviews-v1', address: '127.0.0.1', labels: { app: 'reviews', version: 'v1' }, ports: { http: 19080 } }) });
      assert.equal(reg.status, 200);
      eds = await nextOf(ENDPOINT_TYPE, 'EDS after registration');
      const ep = anyUnpack(eds.resources[0]!, ClusterLoadAssignmentSchema)?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier;
      assert.equal(ep?.case, 'endpoint');
      const addr = ep?.case === 'endpoint' ? ep.value.address?.address : undefined;
      assert.deepEqual(addr?.case === 'socketAddress' ? [addr.value.address, addr.value.portSpecifier.value] : undefined, ['127.0.0.1', 19080]);
      stream.send(sotwRequest({ typeUrl: ENDPOINT_TYPE, resourceNames: ['outbound|9080||reviews.default.svc.cluster.local'], versionInfo: eds.versionInfo, responseNonce: eds.nonce }));
      const bad = await fetch(`${monitoring}/v1/workloads`, { method: 'POST', body: JSON.stringify({ name: 'Bad_Name', address: 'nowhere' }) });
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /name: must be a DNS-1123 label.*address: must be an IP address/);

      // A mistake in a new file is reported with file, line and field (the store never holds it: folder-source tests).
      await writeFile(join(dir, 'dr.yaml'), RULE('subsetz'));
      await waitFor(() => out.includes('unknown field "subsetz"'), 'the validation error', 10_000);
      assert.match(out, /dr\.yaml:6 DestinationRule default\/reviews spec\.subsetz: unknown field "subsetz"/);
      // Fixed: the subset cluster reaches the proxy.
      await writeFile(join(dir, 'dr.yaml'), RULE('subsets'));
      cds = await nextOf(CLUSTER_TYPE, 'CDS with the subset');
      assert.ok(clusterNames(cds).includes('outbound|9080|v1|reviews.default.svc.cluster.local'), clusterNames(cds).join(' '));
      stream.send(sotwRequest({ typeUrl: CLUSTER_TYPE, versionInfo: cds.versionInfo, responseNonce: cds.nonce }));

      // proxy-status, as istioctl prints it.
      const ps = await waitFor(async () => {
        const r = await runIsthmus(['proxy-status', '--control-plane', monitoring.replace('http://', '')]);
        return /productpage-v1\.default\s+\S+\s+SYNCED/.test(r.stdout) ? r : undefined;
      }, 'proxy-status to show the proxy SYNCED', 15_000);
      assert.match(ps.stdout, /^NAME\s+CLUSTER\s+CDS\s+LDS\s+EDS\s+RDS\s+ECDS\s+ISTIOD\s+VERSION/m);

      // The same ports again: a clear error, exit 1.
      const port = monitoring.split(':').pop() ?? '';
      const second = await runIsthmus(['control-plane', '--config', dir, '--xds-port', '0', '--monitoring-port', port]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`error: cannot listen for monitoring on 127\\.0\\.0\\.1:${port}`));

      stream.close();
    } finally {
      client.close();
      child.kill('SIGINT');
      assert.equal(await exited, 0);
      await rm(dir, { recursive: true, force: true });
    }
    assert.match(out, /stopped\n$/);
  });
});
