import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expandTrustDomainAliases, replaceTrustDomainAliases, trustDomainBundle } from './trust-domain-bundle.js';

describe('replaceTrustDomainAliases', () => {
  const bundle = trustDomainBundle('td1', ['td2']);
  const cases: { name: string; in: string[]; want: string[] }[] = [
    { name: 'cluster.local expands to the trust domain and its aliases', in: ['cluster.local/ns/a/sa/b'], want: ['td1/ns/a/sa/b', 'td2/ns/a/sa/b'] },
    { name: 'an alias expands too', in: ['td2/ns/a/sa/b'], want: ['td1/ns/a/sa/b', 'td2/ns/a/sa/b'] },
    { name: 'a foreign trust domain is kept as is', in: ['other/ns/a/sa/b'], want: ['other/ns/a/sa/b'] },
    { name: 'a `*` trust domain is not enforced', in: ['*/ns/a/sa/b'], want: ['*/ns/a/sa/b'] },
    { name: 'not a SPIFFE-shaped principal', in: ['sa/b', '*'], want: ['sa/b', '*'] },
    { name: 'a suffix-wildcard trust domain is kept once', in: ['*td1/ns/a/sa/b'], want: ['*td1/ns/a/sa/b', 'td2/ns/a/sa/b'] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(replaceTrustDomainAliases(bundle, c.in), c.want));

  it('without aliases, cluster.local is rewritten to the local trust domain', () => {
    assert.deepEqual(replaceTrustDomainAliases(trustDomainBundle('example.org'), ['cluster.local/ns/a/sa/b']), ['example.org/ns/a/sa/b']);
  });
});

describe('expandTrustDomainAliases', () => {
  it('a bundle member expands to all members, duplicates removed', () => {
    assert.deepEqual(expandTrustDomainAliases(trustDomainBundle('td1', ['td2']), ['td2', 'x', 'td1']), ['td1', 'td2', 'x']);
  });
});
