import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomRequestId } from './request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('request IDs are distinct version 4 UUIDs, past many refills of the random pool', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = randomRequestId();
    assert.match(id, UUID_V4);
    seen.add(id);
  }
  assert.equal(seen.size, 5000);
});

test('every hex digit outside the fixed version and variant bits varies', () => {
  // 32 hex digits; digit 12 is the version (always 4) and digit 16 the variant (8, 9, a or b).
  const values = Array.from({ length: 32 }, () => new Set<string>());
  for (let i = 0; i < 2000; i++) {
    const digits = randomRequestId().replaceAll('-', '');
    for (let d = 0; d < 32; d++) values[d]?.add(digits[d] as string);
  }
  values.forEach((v, d) => {
    if (d === 12) assert.deepEqual([...v], ['4']);
    else if (d === 16) assert.deepEqual([...v].sort(), ['8', '9', 'a', 'b']);
    else assert.equal(v.size, 16, `digit ${d} took ${v.size} of 16 values`);
  });
});
