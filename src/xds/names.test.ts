import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSubsetKey, subsetKey } from './names.js';

describe('subset keys', () => {
  it('reads like Istio and round-trips', () => {
    const name = subsetKey('outbound', 'v1', 'reviews.default.svc.cluster.local', 9080);
    assert.equal(name, 'outbound|9080|v1|reviews.default.svc.cluster.local');
    assert.deepEqual(parseSubsetKey(name), { direction: 'outbound', port: 9080, subset: 'v1', host: 'reviews.default.svc.cluster.local' });
    assert.equal(subsetKey('inbound', undefined, '', 9080), 'inbound|9080||');
  });
  it('rejects names that are not subset keys', () => {
    for (const n of ['BlackHoleCluster', 'sideways|9080||a', 'outbound|99999||a', 'outbound|x||a']) assert.equal(parseSubsetKey(n), undefined, n);
  });
});
