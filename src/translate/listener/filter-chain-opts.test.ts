// Filter-chain options: which chains Envoy would see as duplicates, and the FilterChainMatch they become.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chainOpts, conflictsWith, isMatchAll, toCidr, toFilterChainMatch } from './filter-chain-opts.js';

describe('filter chain options', () => {
  it('a chain with only a `*` SNI still matches everything', () => {
    assert.equal(isMatchAll(chainOpts({ sniHosts: ['*'] })), true);
    assert.equal(toFilterChainMatch(chainOpts({ sniHosts: ['*'] })), undefined);
    assert.equal(isMatchAll(chainOpts({ transportProtocol: 'raw_buffer' })), false);
  });

  it('CIDRs naming the same network conflict, whatever host bits they carry', () => {
    assert.equal(conflictsWith(chainOpts({ destinationCidrs: ['10.1.2.3/8'] }), chainOpts({ destinationCidrs: ['10.200.0.0/8'] })), true);
    assert.equal(conflictsWith(chainOpts({ destinationCidrs: ['10.1.2.3/16'] }), chainOpts({ destinationCidrs: ['10.2.0.0/16'] })), false);
  });

  it('SNI order and `*` entries do not matter; ALPN order does', () => {
    assert.equal(conflictsWith(chainOpts({ sniHosts: ['a', 'b', '*'] }), chainOpts({ sniHosts: ['b', 'a'] })), true);
    assert.equal(conflictsWith(chainOpts({ applicationProtocols: ['h2c', 'http/1.1'] }), chainOpts({ applicationProtocols: ['http/1.1', 'h2c'] })), false);
  });

  it('0.0.0.0 ranges are dropped from the match; SNI and CIDRs are sorted', () => {
    const m = toFilterChainMatch(chainOpts({ sniHosts: ['b.com', 'a.com'], destinationCidrs: ['10.0.0.2', '0.0.0.0/0', '10.0.0.1'] }));
    assert.deepEqual(m?.serverNames, ['a.com', 'b.com']);
    assert.deepEqual(m?.prefixRanges.map((r) => `${r.addressPrefix}/${r.prefixLen}`), ['10.0.0.1/32', '10.0.0.2/32']);
  });

  it('addresses become host CIDRs; non-addresses none', () => {
    assert.equal(toCidr('fd00::1')?.prefixLen, 128);
    assert.equal(toCidr('example.com'), undefined);
  });
});
