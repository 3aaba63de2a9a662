import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../../lib/clock.js';
import { sha256Hex } from './fetch-error.js';
import { openModuleCache } from './module-cache.js';

function fakeClock(): Clock & { t: number } {
  const c = { t: 1000, now: () => c.t, setTimeout: () => ({ cancel: () => undefined }) };
  return c;
}
const mod = (n: number, size = 100): Uint8Array => {
  const b = new Uint8Array(size);
  b.set([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, n]);
  return b;
};

describe('module cache', () => {
  it('keeps its index across reopen and evicts the least recently used past the bound', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-cache-test-'));
    try {
      const clock = fakeClock();
      const c = await openModuleCache(dir, { clock, maxBytes: 250, log: () => undefined });
      const [a, b, d] = [mod(1), mod(2), mod(3)];
      await c.store(a, sha256Hex(a), { url: 'http://x/a' });
      clock.t++;
      await c.store(b, sha256Hex(b), { url: 'http://x/b', digest: 'f'.repeat(64) });
      clock.t++;
      assert.ok(await c.read(sha256Hex(a)), 'a is now more recently used than b');
      clock.t++;
      await c.store(d, sha256Hex(d), { url: 'http://x/d' });
      assert.equal(await c.read(sha256Hex(b)), undefined, 'b evicted');
      const reopened = await openModuleCache(dir, { clock, log: () => undefined });
      assert.equal(reopened.forUrl('http://x/a'), sha256Hex(a));
      assert.equal(reopened.forUrl('http://x/b'), undefined);
      assert.equal(reopened.forDigest('f'.repeat(64)), undefined);
      assert.deepEqual(await reopened.read(sha256Hex(d)), d);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('drops a damaged module file instead of serving it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-cache-test-'));
    try {
      const c = await openModuleCache(dir, { clock: fakeClock(), log: () => undefined });
      const a = mod(1);
      await c.store(a, sha256Hex(a), { url: 'http://x/a' });
      await writeFile(join(dir, `${sha256Hex(a)}.wasm`), mod(9));
      assert.equal(await c.read(sha256Hex(a)), undefined);
      assert.equal(c.forUrl('http://x/a'), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
