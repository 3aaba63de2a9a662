// The proxy over incremental xDS (DeltaAggregatedResources) against the real control plane, in process:
// a bootstrap with ads_config.api_type DELTA_GRPC makes it speak delta; it syncs (readiness LIVE, the
// control plane sees every type acknowledged as expected), follows changes (a DestinationRule subset adds a
// cluster and its EDS subscription; deleting the rule removes both through removed_resources and an
// unsubscribe), NACKs an update it refuses with every problem while keeping the last good config, and
// after the control plane restarts it reconnects with initial_resource_versions, so only what changed
// while it was away is sent again.

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '@bufbuild/protobuf';
import { ALL_KINDS } from '../../src/api/kinds.js';
import { createKindRegistry } from '../../src/api/kind.js';
import { startControlPlane, type RunningControlPlane } from '../../src/cli/control-plane.js';
import { envoyBootstrap } from '../../src/cli/bootstrap.js';
import { parseBootstrap, type ProxyBootstrap } from '../../src/proxy/bootstrap.js';
import { startProxy, type ProxyOptions, type RunningProxy } from '../../src/proxy/proxy.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import type { Cluster } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { waitFor } from '../support/wait.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: 9080}]
`;
const RULE = (subsets: string[]): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [${subsets.map((s) => `{name: ${s}, labels: {version: ${s}}}`).join(', ')}]
`;
const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';
const subset = (s: string): string => `outbound|9080|${s}|reviews.default.svc.cluster.local`;

interface Mesh {
  readonly dir: string;
  cp: RunningControlPlane;
  start(port: number): Promise<RunningControlPlane>;
}

async function startMesh(t: TestContext, files: Record<string, string>): Promise<Mesh> {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-delta-'));
  for (const [f, y] of Object.entries(files)) await writeFile(join(dir, f), y);
  const start = (port: number): Promise<RunningControlPlane> => startControlPlane({ configDir: dir, registry: createKindRegistry(ALL_KINDS), xdsPort: port, monitoringPort: 0, debounceMs: 10 });
  const mesh: Mesh = { dir, cp: await start(0), start };
  t.after(async () => {
    await mesh.cp.close();
    await rm(dir, { recursive: true, force: true });
  });
  return mesh;
}

/** What `isthmus bootstrap` prints, with ads_config.api_type as given (the JSON an Envoy would read too). */
function bootstrap(cp: RunningControlPlane, apiType: 'GRPC' | 'DELTA_GRPC'): ProxyBootstrap {
  const json = envoyBootstrap({ node: 'productpage-v1', proxyless: false, xdsAddress: cp.xdsAddress, namespace: 'default', type: 'sidecar', ip: '10.1.0.5', labels: { app: 'productpage' }, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' } });
  const ads = (json['dynamicResources'] as JsonObject)['adsConfig'] as JsonObject;
  ads['apiType'] = apiType;
  return parseBootstrap(json, 'test bootstrap');
}

async function proxyOf(t: TestContext, boot: ProxyBootstrap, extra: Partial<ProxyOptions> = {}): Promise<RunningProxy> {
  const proxy = await startProxy({ bootstrap: boot, adminPort: 0, readinessPort: 0, prometheusPort: 0, readinessHost: '127.0.0.1', captureAddress: '127.0.0.1', ...extra });
  t.after(() => proxy.close());
  await waitFor(async () => (await fetch(proxy.readinessUrl)).status === 200, 'the proxy to be ready', 10_000);
  return proxy;
}

/** The control plane's view of the proxy: every type acknowledged, and acknowledged = what it should have. */
function synced(cp: RunningControlPlane, nodeId: string): boolean {
  const s = cp.discovery.proxyStatus(nodeId);
  return s !== undefined && s.xds === 'delta' && s.types.length >= 4 && s.types.every((ty) => ty.status === 'SYNCED' && JSON.stringify(ty.acked) === JSON.stringify(ty.expected));
}

const clusters = (p: RunningProxy): string[] => [...p.xds.table(CLUSTER_TYPE).keys()];

describe('isthmus proxy over delta xDS', () => {
  it('syncs, follows subset changes through subscribe and removed_resources, and NACKs with every problem keeping the last good config', async (t) => {
    const mesh = await startMesh(t, { 'svc.yaml': SERVICE });
    const boot = bootstrap(mesh.cp, 'DELTA_GRPC');
    assert.equal(boot.xdsProtocol, 'delta');
    // This build's extra rule for the test: clusters of subsets v2 and v3 are refused.
    const proxy = await proxyOf(t, boot, {
      extraChecks: (type, m) => (type === CLUSTER_TYPE && /\|v[23]\|/.test((m as Cluster).name) ? ['name: subsets v2 and v3 are refused by this proxy'] : []),
    });
    assert.equal(proxy.xds.protocol, 'delta');
    assert.ok(clusters(proxy).includes(REVIEWS), clusters(proxy).join(' '));
    assert.ok(proxy.xds.table(ENDPOINT_TYPE).has(REVIEWS));
    assert.ok(proxy.xds.table(LISTENER_TYPE).has('0.0.0.0_9080'));
    assert.ok(proxy.xds.typeState(ROUTE_TYPE).names.length > 0);
    assert.deepEqual(proxy.xds.typeState(ROUTE_TYPE).names, [...proxy.xds.table(ROUTE_TYPE).keys()]);
    await waitFor(() => synced(mesh.cp, boot.nodeId), 'the control plane to see every type acknowledged');

    // A subset: a new cluster arrives alone, and its endpoints are subscribed by name.
    await writeFile(join(mesh.dir, 'rule.yaml'), RULE(['v1']));
    await waitFor(() => proxy.xds.table(ENDPOINT_TYPE).has(subset('v1')), 'the v1 cluster and its endpoints');
    assert.ok(proxy.xds.typeState(ENDPOINT_TYPE).names.includes(subset('v1')));
    await waitFor(() => synced(mesh.cp, boot.nodeId), 'the v1 subscription acknowledged');

    // Refused: one NACK naming both clusters; nothing of the update is applied.
    const good = clusters(proxy);
    await writeFile(join(mesh.dir, 'rule.yaml'), RULE(['v1', 'v2', 'v3']));
    const nack = await waitFor(() => {
      const cds = mesh.cp.discovery.proxyStatus(boot.nodeId)?.types.find((x) => x.type_url === CLUSTER_TYPE);
      return cds?.status === 'ERROR' ? cds.last_error : undefined;
    }, 'the CDS NACK');
    assert.match(nack?.message ?? '', /^CDS update rejected \(version \S+\): /);
    assert.match(nack?.message ?? '', /outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local: name: subsets v2 and v3 are refused by this proxy/);
    assert.match(nack?.message ?? '', /outbound\|9080\|v3\|reviews\.default\.svc\.cluster\.local: name: subsets v2 and v3 are refused by this proxy/);
    assert.equal(nack?.code, 'Internal', 'Envoy NACKs with gRPC INTERNAL');
    assert.deepEqual(clusters(proxy), good);
    assert.equal(proxy.xds.typeState(CLUSTER_TYPE).lastError, nack?.message);
    assert.ok(!proxy.xds.typeState(ENDPOINT_TYPE).names.some((n) => /\|v[23]\|/.test(n)));

    // Deleting the rule: the control plane removes the v1 cluster; the proxy drops it and unsubscribes its endpoints.
    await unlink(join(mesh.dir, 'rule.yaml'));
    await waitFor(() => !proxy.xds.table(CLUSTER_TYPE).has(subset('v1')), 'the v1 cluster to be removed');
    assert.ok(!proxy.xds.typeState(ENDPOINT_TYPE).names.includes(subset('v1')));
    assert.ok(!proxy.xds.table(ENDPOINT_TYPE).has(subset('v1')));
    assert.ok(proxy.xds.table(CLUSTER_TYPE).has(REVIEWS));
    assert.equal(proxy.xds.typeState(CLUSTER_TYPE).lastError, undefined);
    await waitFor(() => synced(mesh.cp, boot.nodeId), 'the control plane to see the removal acknowledged and v1 unsubscribed');
    assert.ok(!mesh.cp.discovery.proxyStatus(boot.nodeId)?.types.find((x) => x.type_url === ENDPOINT_TYPE)?.subscribed.names.includes(subset('v1')));
  });

  it('reconnects to a restarted control plane with initial_resource_versions: only what changed meanwhile is sent', async (t) => {
    const mesh = await startMesh(t, { 'svc.yaml': SERVICE, 'rule.yaml': RULE(['v1']) });
    const boot = bootstrap(mesh.cp, 'GRPC');
    const proxy = await proxyOf(t, boot, { xdsProtocol: 'delta' });
    await waitFor(() => proxy.xds.table(ENDPOINT_TYPE).has(subset('v1')) && synced(mesh.cp, boot.nodeId), 'the first sync');
    const held = {
      cluster: proxy.xds.table(CLUSTER_TYPE).get(REVIEWS),
      endpoints: proxy.xds.table(ENDPOINT_TYPE).get(REVIEWS),
      listener: proxy.xds.table(LISTENER_TYPE).get('0.0.0.0_9080'),
      routes: [...proxy.xds.table(ROUTE_TYPE).values()],
    };

    // The control plane goes away; the config changes while the proxy cannot hear about it.
    const port = Number(mesh.cp.xdsAddress.slice(mesh.cp.xdsAddress.lastIndexOf(':') + 1));
    await mesh.cp.close();
    await waitFor(() => !proxy.xds.connected, 'the proxy to notice the stream ended');
    await writeFile(join(mesh.dir, 'rule.yaml'), RULE(['v2']));
    mesh.cp = await mesh.start(port);

    await waitFor(() => proxy.xds.table(ENDPOINT_TYPE).has(subset('v2')) && !proxy.xds.table(CLUSTER_TYPE).has(subset('v1')), 'the change made while away', 15_000);
    await waitFor(() => synced(mesh.cp, boot.nodeId), 'the new control plane to see every type acknowledged');
    // The new server was told what the proxy holds, so it sent none of it again.
    assert.equal(proxy.xds.table(CLUSTER_TYPE).get(REVIEWS), held.cluster);
    assert.equal(proxy.xds.table(ENDPOINT_TYPE).get(REVIEWS), held.endpoints);
    assert.equal(proxy.xds.table(LISTENER_TYPE).get('0.0.0.0_9080'), held.listener);
    const routes = [...proxy.xds.table(ROUTE_TYPE).values()];
    assert.ok(routes.length === held.routes.length && routes.every((e, i) => e === held.routes[i]), 'route configurations are not sent again');
    assert.ok(!proxy.xds.typeState(ENDPOINT_TYPE).names.includes(subset('v1')));
    assert.equal((await fetch(proxy.readinessUrl)).status, 200);
  });
});
