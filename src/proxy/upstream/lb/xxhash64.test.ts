import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xxHash64 } from './xxhash64.js';

// Reference values from the xxHash C library (XXH64) via an independent implementation.
const CASES: { name: string; input: string; seed: bigint; want: bigint }[] = [
  { name: 'empty', input: '', seed: 0n, want: 0xef46db3751d8e999n },
  { name: 'empty, seed 1', input: '', seed: 1n, want: 0xd5afba1336a3be4bn },
  { name: 'one byte', input: 'a', seed: 0n, want: 0xd24ec4f1a98c6e5bn },
  { name: 'three bytes', input: 'abc', seed: 0n, want: 0x44bc2cf5ad770999n },
  { name: 'three bytes, max seed', input: 'abc', seed: 0xffffffffffffffffn, want: 0x28306e589cc02176n },
  { name: 'six bytes', input: 'xxhash', seed: 0n, want: 0x32dd38952c4bc720n },
  { name: 'over one stripe', input: 'Nobody inspects the spammish repetition', seed: 0n, want: 0xfbcea83c8a378bf1n },
  { name: 'over one stripe, seed 1', input: 'Nobody inspects the spammish repetition', seed: 1n, want: 0x43f425448d954db6n },
  { name: 'several stripes', input: 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(3), seed: 0n, want: 0x873af01d71bd0c23n },
  { name: 'ring-hash key', input: '10.0.0.1:8080_0', seed: 0n, want: 0x23a29ae775dfd4a3n },
  { name: 'maglev skip seed', input: '10.0.0.1:8080_0', seed: 1n, want: 0x129719cb86ba9503n },
  { name: 'utf-8 bytes', input: 'héllo wörld ✓', seed: 0n, want: 0x34d9919c86f55ac4n },
];

for (const c of CASES) {
  test(`xxHash64: ${c.name}`, () => {
    assert.equal(xxHash64(c.input, c.seed), c.want);
  });
}

test('xxHash64: bytes and strings hash alike', () => {
  assert.equal(xxHash64(new TextEncoder().encode('héllo wörld ✓')), xxHash64('héllo wörld ✓'));
});

test('xxHash64: numeric seed equals BigInt seed', () => {
  assert.equal(xxHash64('abc', 1), xxHash64('abc', 1n));
});
