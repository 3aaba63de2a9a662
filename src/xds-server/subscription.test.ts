import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE } from '../xds/type-urls.js';
import { Subscription } from './subscription.js';

describe('Subscription', () => {
  it('SotW: an empty list is wildcard for LDS/CDS until the stream names something', () => {
    const s = new Subscription(LISTENER_TYPE);
    s.replace([]);
    assert.equal(s.covers('anything'), true);
    assert.equal(s.replace(['a']), true);
    assert.deepEqual([s.covers('a'), s.covers('b'), s.wildcard], [true, false, false]);
    s.replace([]);
    assert.equal(s.covers('a'), false, 'unsubscribe-all after naming is not wildcard');
    s.replace(['*', 'a']);
    assert.deepEqual([s.wildcard, s.names, s.covers('zzz')], [true, ['a'], true]);
  });

  it('SotW: routes and endpoints are never wildcard by omission', () => {
    const s = new Subscription(ENDPOINT_TYPE);
    assert.equal(s.replace([]), false);
    assert.equal(s.covers('x'), false);
  });

  it('delta: first empty request is wildcard for CDS; subscribe and unsubscribe adjust names and `*`', () => {
    const s = new Subscription(CLUSTER_TYPE);
    assert.equal(s.apply([], [], true), true);
    assert.equal(s.wildcard, true);
    s.apply(['c1'], ['*'], false);
    assert.deepEqual([s.wildcard, s.names, s.covers('c2')], [false, ['c1'], false]);
    assert.equal(s.apply([], ['c1'], false), true);
    assert.equal(s.covers('c1'), false);
    const eds = new Subscription(ENDPOINT_TYPE);
    eds.apply([], [], true);
    assert.equal(eds.wildcard, false);
  });
});
