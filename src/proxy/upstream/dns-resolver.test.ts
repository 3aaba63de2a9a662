// The resolvers DNS clusters use: the system's (getaddrinfo) on this host's own names, and c-ares against a
// real DNS server on 127.0.0.1: which answers are addresses, which are empty, which fail (Envoy's c-ares
// resolver: NXDOMAIN and no-data are empty answers; server failures and timeouts are failures).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { byFamily, caresResolver, systemResolver } from './dns-resolver.js';
import { startDnsServer } from '../../../test/support/dns-server.js';

describe('DNS resolvers', () => {
  it('orders the families as Envoy does', () => {
    const v4 = ['10.0.0.1'];
    const v6 = ['fd00::1'];
    assert.deepEqual(byFamily(v4, v6, 'auto'), v6);
    assert.deepEqual(byFamily(v4, [], 'auto'), v4);
    assert.deepEqual(byFamily(v4, v6, 'v4-preferred'), v4);
    assert.deepEqual(byFamily([], v6, 'v4-preferred'), v6);
    assert.deepEqual(byFamily(v4, v6, 'all'), [...v4, ...v6]);
    assert.deepEqual(byFamily(v4, v6, 'v4-only'), v4);
    assert.deepEqual(byFamily(v4, v6, 'v6-only'), v6);
  });

  it("the system resolver answers from the host's own files, without a TTL; an IP literal is itself", async () => {
    const local = await systemResolver.resolve('localhost', 'v4-only');
    assert.ok(local.addresses.includes('127.0.0.1'), local.addresses.join(','));
    assert.equal(local.ttlSeconds, undefined);
    assert.deepEqual(await systemResolver.resolve('10.1.2.3', 'auto'), { addresses: ['10.1.2.3'], ttlSeconds: undefined });
    assert.deepEqual((await systemResolver.resolve('10.1.2.3', 'v6-only')).addresses, []);
  });

  it('c-ares: records with the smallest TTL, empty for an unknown name or family, failures for SERVFAIL and silence', async (t) => {
    const dns = await startDnsServer(t);
    dns.set('a.test', 'A', [
      { address: '10.0.0.1', ttl: 20 },
      { address: '10.0.0.2', ttl: 5 },
    ]);
    dns.set('a.test', 'AAAA', [{ address: 'fd00::1', ttl: 9 }]);
    const r = caresResolver({ servers: [dns.address], timeoutMs: 200, tries: 1 });
    assert.deepEqual(await r.resolve('a.test', 'all'), { addresses: ['10.0.0.1', '10.0.0.2', 'fd00::1'], ttlSeconds: 5 });
    assert.deepEqual(await r.resolve('a.test', 'v6-only'), { addresses: ['fd00::1'], ttlSeconds: 9 });
    assert.deepEqual(await r.resolve('nowhere.test', 'v4-only'), { addresses: [], ttlSeconds: undefined });
    dns.set('v4.test', 'A', [{ address: '10.0.0.3', ttl: 1 }]);
    assert.deepEqual((await r.resolve('v4.test', 'v6-only')).addresses, []);
    dns.mode = 'servfail';
    await assert.rejects(r.resolve('a.test', 'v4-only'), (e: NodeJS.ErrnoException) => e.code === 'ESERVFAIL');
    dns.mode = 'silent';
    await assert.rejects(r.resolve('a.test', 'v4-only'), (e: NodeJS.ErrnoException) => e.code === 'ETIMEOUT');
  });
});
