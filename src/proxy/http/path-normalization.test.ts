// Path normalization as Envoy does it. The expected values are Envoy's own (test/common/http/
// path_utility_test.cc: NormalizeValidPaths, InvalidPaths, NormalizeCasePath, MergeSlashes, UnescapeSlashes)
// plus googleurl's character classes (unreserved escapes decoded, unsafe characters encoded).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizePath, mergeSlashes, normalizeRequestPath, unescapeSlashes, type PathNormalization } from './path-normalization.js';

describe('canonicalizePath (normalize_path)', () => {
  const normal: [string, string][] = [
    ['/xyz', '/xyz'],
    ['/x/y/z', '/x/y/z'],
    ['/a/b/../c', '/a/c'],
    ['/a/b/./c', '/a/b/c'],
    ['a/b/../c', '/a/c'],
    ['/a/b/../../../../c', '/c'],
    ['/a/..\\c', '/c'],
    ['/%c0%af', '/%c0%af'],
    ['/%5c%25', '/%5c%25'],
    ['/a/b/%2E%2E/c', '/a/c'],
    ['/a/b/%2e%2e/c', '/a/c'],
    ['/a/b/%2E./c', '/a/c'],
    ['/a/b/%2E/c', '/a/b/c'],
    ['..', '/'],
    ['/../a/b', '/a/b'],
    ['/./a/b', '/a/b'],
    ['/A/B/C', '/A/B/C'],
    ['/a/%2F%2f/c', '/a/%2F%2f/c'],
    ['/xyz/..;foo=bar/abc', '/abc'],
    ['/..;foo=bar/abc', '/abc'],
    ['/xyz/..;foo=bar', '/'],
    ['/xyz/.;foo=bar/abc', '/xyz/abc'],
    ['/.;foo=bar/abc', '/abc'],
    ['/xyz/.;foo=bar', '/xyz/'],
    ['/xyz/..;foo=bar/.;v1=2,v2=3/abc', '/abc'],
    ['/..;foo=bar/abc/.;mmm', '/abc/'],
    // googleurl's classes: unreserved escapes decoded, unsafe characters encoded, the rest kept.
    ['/%41%7e%2d', '/A~-'],
    ['/a b"c<d>e`f{g|h}i^j', '/a%20b%22c%3Cd%3Ee%60f%7Bg%7Ch%7Di%5Ej'],
    ["/!$&'()*+,;=:@[]", "/!$&'()*+,;=:@[]"],
    ['/caf\u00e9', '/caf%E9'],
    ['/a%2', '/a%2'],
    ['/a/..b/.c', '/a/..b/.c'],
    ['/a//b', '/a//b'],
  ];
  for (const [input, want] of normal) it(`${JSON.stringify(input)} -> ${JSON.stringify(want)}`, () => assert.equal(canonicalizePath(input), want));

  for (const bad of ['/xyz/.%00../abc', '/xyz/%00.%00./abc', '/xyz/AAAAA%%0000/abc', '/a\u0000b']) {
    it(`${JSON.stringify(bad)} fails`, () => assert.equal(canonicalizePath(bad), undefined));
  }
});

describe('mergeSlashes and unescapeSlashes', () => {
  it("merge slashes as Envoy's mergeSlashes (the path part only)", () => {
    const cases: [string, string][] = [
      ['', ''],
      ['a//b/c', 'a/b/c'],
      ['/a//b/c/', '/a/b/c/'],
      ['/a', '/a'],
      ['//a/b/c', '/a/b/c'],
      ['/a/b/c//', '/a/b/c/'],
      ['/a////b/c', '/a/b/c'],
    ];
    for (const [input, want] of cases) assert.equal(mergeSlashes(input), want, input);
  });
  it('unescapes %2F and %5C in either case, and says when there were none', () => {
    assert.equal(unescapeSlashes('%2f%2F'), '//');
    assert.equal(unescapeSlashes('/a%2Fb%2fc/'), '/a/b/c/');
    assert.equal(unescapeSlashes('/a%5Cb%5cc/'), '/a\\b\\c/');
    assert.equal(unescapeSlashes('%%2fa/'), '%/a/');
    for (const none of ['', '%2b', '/a/b/c', '%2', '%', 'foo%']) assert.equal(unescapeSlashes(none), undefined, none);
  });
});

describe('normalizeRequestPath (the connection manager)', () => {
  const BASE: PathNormalization = { normalize: true, mergeSlashes: false, escapedSlashes: 'keep' };
  it('leaves canonical paths as they are, query included, and normalizes only the path part', () => {
    for (const p of ['/', '/productpage', '/static/app.v2.js?x=../y', '/a/b?q=%2e%2e&r=//']) assert.deepEqual(normalizeRequestPath(p, BASE), { action: 'continue', path: p });
    assert.deepEqual(normalizeRequestPath('/a/../b?x=/../y', BASE), { action: 'continue', path: '/b?x=/../y' });
    assert.deepEqual(normalizeRequestPath('*', BASE), { action: 'continue', path: '*' });
  });
  it('rejects a fragment and a path that fails normalization', () => {
    assert.deepEqual(normalizeRequestPath('/a#b', BASE), { action: 'reject' });
    assert.deepEqual(normalizeRequestPath('/a/%00', BASE), { action: 'reject' });
  });
  it('MERGE_SLASHES and DECODE_AND_MERGE_SLASHES as Istio configures them; escaped slashes rejected or redirected', () => {
    assert.deepEqual(normalizeRequestPath('/a//b/../c?q=//', { ...BASE, mergeSlashes: true }), { action: 'continue', path: '/a/c?q=//' });
    assert.deepEqual(normalizeRequestPath('/a%2F..%2Fb//c', { normalize: true, mergeSlashes: true, escapedSlashes: 'forward' }), { action: 'continue', path: '/b/c' });
    assert.deepEqual(normalizeRequestPath('/a%2Fb', { ...BASE, escapedSlashes: 'reject' }), { action: 'reject' });
    assert.deepEqual(normalizeRequestPath('/a%2fb', { ...BASE, escapedSlashes: 'redirect' }), { action: 'redirect', path: '/a/b' });
    assert.deepEqual(normalizeRequestPath('/a%2Fb', BASE), { action: 'continue', path: '/a%2Fb' });
    assert.deepEqual(normalizeRequestPath('/a/../b', { normalize: false, mergeSlashes: false, escapedSlashes: 'keep' }), { action: 'continue', path: '/a/../b' });
  });
});
