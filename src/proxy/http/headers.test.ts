import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOP_BY_HOP, isHopByHop } from './headers.js';

describe('isHopByHop', () => {
  it('agrees with HOP_BY_HOP on its members and on names of the same lengths that are not', () => {
    for (const n of HOP_BY_HOP) assert.equal(isHopByHop(n), true, n);
    for (const n of ['tx', 'upgrad3', 'user-agent', 'connectio_', 'content-length', 'x-forwarded-host', 'x-forwarded-proto', 'proxy-authenticatx', 'proxy-authorizatio_', 'host', '', 'Connection'])
      assert.equal(isHopByHop(n), HOP_BY_HOP.has(n), n);
  });
});
