import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { envoyBootstrap, grpcBootstrap, nodeId, parseLabels, type BootstrapOptions } from './bootstrap.js';
import { parseProxy } from '../model/proxy.js';

const base: BootstrapOptions = {
  node: 'client',
  proxyless: true,
  xdsAddress: '127.0.0.1:15010',
  namespace: 'shop',
  type: 'sidecar',
  ip: '127.0.0.1',
  labels: { app: 'client' },
  serviceAccount: 'client-sa',
  locality: { region: 'r1', zone: 'z1', subZone: '' },
};

describe('isthmus bootstrap', () => {
  it('gives proxyless gRPC a node the control plane reads as a proxyless proxy in its namespace', () => {
    const b = grpcBootstrap(base) as { node: { id: string; metadata: Record<string, unknown>; locality: unknown } };
    assert.equal(b.node.id, 'sidecar~127.0.0.1~client.shop~shop.svc.cluster.local');
    assert.deepEqual(b.node.locality, { region: 'r1', zone: 'z1', subZone: '' });
    const p = parseProxy({ id: b.node.id, metadata: b.node.metadata });
    assert.ok(p.ok);
    assert.equal(p.value.type, 'proxyless');
    assert.equal(p.value.namespace, 'shop');
    assert.equal(p.value.serviceAccount, 'client-sa');
    assert.deepEqual(p.value.labels, { app: 'client' });
  });

  it('gives Envoy an ADS bootstrap pointing at the control plane', () => {
    const b = envoyBootstrap({ ...base, proxyless: false }) as {
      node: { id: string; metadata: Record<string, unknown> };
      staticResources: { clusters: { name: string; loadAssignment: { endpoints: { lbEndpoints: { endpoint: { address: { socketAddress: unknown } } }[] }[] } }[] };
    };
    assert.equal(b.node.metadata['GENERATOR'], undefined);
    const ep = b.staticResources.clusters[0]?.loadAssignment.endpoints[0]?.lbEndpoints[0]?.endpoint.address.socketAddress;
    assert.deepEqual(ep, { address: '127.0.0.1', portValue: 15010 });
  });

  it('keeps a full node id and rejects malformed labels', () => {
    assert.equal(nodeId({ ...base, node: 'router~10.0.0.1~gw.istio-system~istio-system.svc.cluster.local' }), 'router~10.0.0.1~gw.istio-system~istio-system.svc.cluster.local');
    assert.deepEqual(parseLabels('app=a, version=v1'), { app: 'a', version: 'v1' });
    assert.throws(() => parseLabels('app'), /invalid --labels entry "app": want key=value/);
  });

  it('adds --meta entries to the node metadata as ISTIO_META_ variables would, without overriding its own fields', () => {
    const b = envoyBootstrap({ ...base, proxyless: false, metadata: parseLabels('HTTP10=1,NAMESPACE=elsewhere', '--meta') }) as { node: { id: string; metadata: Record<string, unknown> } };
    assert.deepEqual([b.node.metadata['HTTP10'], b.node.metadata['NAMESPACE']], ['1', 'shop']);
    const p = parseProxy({ id: b.node.id, metadata: b.node.metadata });
    assert.ok(p.ok);
    assert.equal(p.value.metadata['HTTP10'], '1');
    assert.throws(() => parseLabels('HTTP10', '--meta'), /invalid --meta entry "HTTP10": want key=value/);
  });
});
