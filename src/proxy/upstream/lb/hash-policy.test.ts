import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineHashes, hashHeaderValues, hashKey, hashString } from './hash-policy.js';
import { xxHash64 } from './xxhash64.js';

const MASK = (1n << 64n) - 1n;
const rotl1 = (h: bigint) => ((h << 1n) | (h >> 63n)) & MASK;

test('hashKey: one cookie hashes the value with xxHash64 seed 0', () => {
  assert.equal(hashKey([{ kind: 'cookie', value: 'session-1' }]), xxHash64('session-1'));
});

test('hashKey: header values are order-independent and chained through the seed', () => {
  const h = hashHeaderValues(['b', 'a']);
  assert.equal(h, hashHeaderValues(['a', 'b']));
  assert.equal(h, xxHash64('b', xxHash64('a', 0n)));
  assert.equal(hashHeaderValues(['x']), hashString('x'));
});

test('hashKey: several policies fold as rotl(acc, 1) ^ next', () => {
  const got = hashKey([
    { kind: 'header', values: ['u1'] },
    { kind: 'source-ip', ip: '10.1.2.3' },
  ]);
  assert.equal(got, rotl1(xxHash64('u1')) ^ xxHash64('10.1.2.3'));
});

test('hashKey: duplicate policies do not cancel each other', () => {
  const once = hashKey([{ kind: 'cookie', value: 'c' }]);
  const twice = hashKey([{ kind: 'cookie', value: 'c' }, { kind: 'cookie', value: 'c' }]);
  assert.notEqual(twice, 0n);
  assert.notEqual(twice, once);
});

const SKIPS: { name: string; inputs: Parameters<typeof hashKey>[0]; want: bigint | undefined }[] = [
  { name: 'no inputs', inputs: [], want: undefined },
  { name: 'absent header', inputs: [{ kind: 'header', values: [] }], want: undefined },
  { name: 'empty cookie', inputs: [{ kind: 'cookie', value: '' }], want: undefined },
  { name: 'missing query parameter', inputs: [{ kind: 'query-parameter', value: undefined }], want: undefined },
  { name: 'empty query parameter still hashes', inputs: [{ kind: 'query-parameter', value: '' }], want: xxHash64('') },
  {
    name: 'missing input is skipped, next one used',
    inputs: [{ kind: 'header', values: [] }, { kind: 'query-parameter', value: 'q' }],
    want: xxHash64('q'),
  },
  {
    name: 'terminal input with a hash stops the walk',
    inputs: [{ kind: 'cookie', value: 'c', terminal: true }, { kind: 'source-ip', ip: '1.2.3.4' }],
    want: xxHash64('c'),
  },
  {
    name: 'terminal input without a hash does not stop',
    inputs: [{ kind: 'cookie', value: undefined, terminal: true }, { kind: 'source-ip', ip: '1.2.3.4' }],
    want: xxHash64('1.2.3.4'),
  },
  { name: 'filter state hash used as is', inputs: [{ kind: 'filter-state', hash: 7n }], want: 7n },
];

for (const c of SKIPS) {
  test(`hashKey: ${c.name}`, () => {
    assert.equal(hashKey(c.inputs), c.want);
  });
}

test('combineHashes: first hash passes through', () => {
  assert.equal(combineHashes(undefined, 5n), 5n);
  assert.equal(combineHashes(1n << 63n, 0n), 1n);
});
