import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePairs, serializePairs, serializedPairsSize } from './pairs.js';

const enc = new TextEncoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('pairs', () => {
  it('serializes the spec example with NUL terminators, and empty maps as zero bytes', () => {
    const pairs = [['a', enc.encode('1')], ['b', enc.encode('22')]] as const;
    const bytes = serializePairs(pairs);
    assert.equal(hex(bytes), '02000000' + '01000000' + '01000000' + '01000000' + '02000000' + '61003100' + '6200323200');
    assert.equal(serializedPairsSize(pairs), bytes.byteLength);
    assert.equal(serializePairs([]).byteLength, 0);
    assert.equal(serializedPairsSize([]), 0);
  });

  it('parses what it serializes, and refuses malformed input', () => {
    const pairs = [[':path', enc.encode('/ä')], ['x', new Uint8Array(0)]] as const;
    const back = parsePairs(serializePairs(pairs));
    assert.deepEqual(back?.map(([n, v]) => [n, Buffer.from(v).toString()]), [[':path', '/ä'], ['x', '']]);
    const cases: Array<[string, Uint8Array, boolean]> = [
      ['empty', new Uint8Array(0), true],
      ['single NUL (spec alternative for empty)', new Uint8Array([0]), true],
      ['truncated header', new Uint8Array([1, 0]), false],
      ['count without lengths', new Uint8Array([1, 0, 0, 0]), false],
      ['missing NUL', (() => { const b = serializePairs([['a', enc.encode('1')]]); b[b.length - 1] = 7; return b; })(), false],
      ['too many pairs', new Uint8Array([0x01, 0x04, 0, 0]), false],
    ];
    for (const [name, data, ok] of cases) assert.equal(parsePairs(data) !== undefined, ok, name);
  });
});
