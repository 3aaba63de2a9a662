import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { meshFromYaml, testProxy } from '../../test/support/mesh.js';
import { LocalWorkloads } from '../registry/local-workloads.js';
import { snapshotFromConfig } from '../model/build-snapshot.js';
import { translate } from '../translate/translate.js';
import { ENDPOINT_TYPE } from '../xds/type-urls.js';
import { GenerationCache, packResources, type GenerationResult, type ProxyGeneration } from './generation.js';

const CONFIG = `
apiVersion: v1
kind: Service
metadata: {name: billing, namespace: a, annotations: {networking.istio.io/exportTo: "."}}
spec: {selector: {app: billing}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: b}
spec: {selector: {app: shop}, ports: [{name: http, port: 8080}]}
`;

function generation(r: GenerationResult): ProxyGeneration {
  assert.ok(r.ok, 'translation succeeded');
  return r.value;
}

/** Every resource's (type, name, version): what the proxy would be sent. */
function versions(g: ProxyGeneration): string[] {
  return [...g.byType].flatMap(([type, rs]) => [...rs.values()].map((r) => `${type} ${r.name} ${r.version}`));
}

describe('GenerationCache across snapshots', () => {
  it('keeps the generation of a proxy the change cannot reach and retranslates the one it can', () => {
    const entries = meshFromYaml(CONFIG).entries;
    const local = new LocalWorkloads();
    local.register({ name: 'billing-1', namespace: 'a', address: '10.0.1.1', labels: { app: 'billing' }, ports: { http: 8080 } });
    local.register({ name: 'shop-1', namespace: 'b', address: '10.0.2.1', labels: { app: 'shop' }, ports: { http: 8080 } });
    const inA = testProxy({ name: 'client-a', namespace: 'a', ip: '10.9.0.1' });
    const inB = testProxy({ name: 'client-b', namespace: 'b', ip: '10.9.0.2' });
    const cache = new GenerationCache(translate);
    const s1 = snapshotFromConfig(entries, { localWorkloads: local.list(), version: '1' });
    const a1 = generation(cache.get(s1, inA));
    const b1 = generation(cache.get(s1, inB));
    assert.equal(cache.translateCount, 2);

    // billing is exported to its own namespace only: a new billing endpoint cannot change what client-b gets.
    local.register({ name: 'billing-2', namespace: 'a', address: '10.0.1.2', labels: { app: 'billing' }, ports: { http: 8080 } });
    const s2 = snapshotFromConfig(entries, { localWorkloads: local.list(), version: '2' });
    const a2 = generation(cache.get(s2, inA));
    const b2 = generation(cache.get(s2, inB));
    assert.equal(cache.translateCount, 3, 'client-a is translated again');
    assert.equal(cache.reuseCount, 1, 'client-b keeps its generation');
    assert.equal(b2.snapshotVersion, '2');
    assert.deepEqual(versions(b2), versions(packResources('2', translate(meshFromYaml(CONFIG, { localWorkloads: local.list() }).snapshot, inB))), 'the kept generation is what translating client-b afresh gives');
    assert.deepEqual(versions(b2), versions(b1));
    const cla = (g: ProxyGeneration) => g.byType.get(ENDPOINT_TYPE)?.get('outbound|8080||billing.a.svc.cluster.local')?.version;
    assert.notEqual(cla(a2), cla(a1), 'client-a gets the new billing endpoints');
  });
});
