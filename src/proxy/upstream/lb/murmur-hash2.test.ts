import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmurHash2 } from './murmur-hash2.js';

// Reference values: std::hash<std::string> from libstdc++ on x86-64 (what Envoy's MURMUR_HASH_2 matches).
const CASES: { input: string; want: bigint }[] = [
  { input: '', want: 0x553e93901e462a6en },
  { input: 'a', want: 0x454ddee488c1ed6bn },
  { input: 'abc', want: 0x32d82bf8ed3dba39n },
  { input: '12345678', want: 0x8c5b90a33a04dca5n },
  { input: '123456789abcdefgh', want: 0x8ead5e287cbb71c4n },
  { input: '10.0.0.1:8080_0', want: 0x28125cc835986945n },
  { input: 'héllo', want: 0xfc66fa19c39f6cf6n },
];

for (const c of CASES) {
  test(`murmurHash2: ${JSON.stringify(c.input)}`, () => {
    assert.equal(murmurHash2(c.input), c.want);
  });
}
