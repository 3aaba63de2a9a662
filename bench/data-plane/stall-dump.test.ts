// A run that measured next to nothing leaves what the proxy's admin said in a file: the stall rule for
// throughput and fixed-rate runs, the admin read over a real socket, and a report that names what failed to
// be read rather than throwing.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LoadResult } from './load.js';
import { adminSnapshot, looksStalled, writeStallReport } from './stall-dump.js';

const load = (rps: number): LoadResult => ({ requests: rps * 10, rps, p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, errors: 0 });

describe('looksStalled', () => {
  it('calls a throughput run under 100 req/s stalled (session 15 saw 0.1 req/s)', () => {
    assert.equal(looksStalled(load(0.1), undefined), true);
    assert.equal(looksStalled(load(8_685), undefined), false);
  });
  it('calls a fixed-rate run that completed under half its schedule stalled', () => {
    assert.equal(looksStalled(load(400), 1000), true);
    assert.equal(looksStalled(load(998), 1000), false);
  });
});

describe('adminSnapshot and writeStallReport', () => {
  let server: Server;
  let url = '';
  const dir = mkdtempSync(join(tmpdir(), 'stall-dump-test-'));
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/clusters') res.end('outbound|80||up.bench::127.0.0.1:9::rq_active::99\n');
      else if (req.url === '/stats') {
        res.statusCode = 500;
        res.end('stats broke');
      } else res.destroy();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const a = server.address();
    if (a === null || typeof a === 'string') throw new Error('no port');
    url = `http://127.0.0.1:${a.port}`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads /clusters and /stats with their status, and says why an admin that is gone could not be read", async () => {
    const s = await adminSnapshot(url);
    assert.match(s, /## GET \/clusters: 200\noutbound\|80\|\|up\.bench::127\.0\.0\.1:9::rq_active::99/);
    assert.match(s, /## GET \/stats: 500\nstats broke/);
    const gone = await adminSnapshot('http://127.0.0.1:1');
    assert.match(gone, /## GET \/clusters: failed: /);
  });

  it('writes both snapshots and the load into one file named for the shape, proxy and run', async () => {
    const file = writeStallReport(join(dir, 'stalls'), 'h2h2-c10m10-isthmus-h2h2-run1', {
      what: 'isthmus h2c->h2c, h2h2-c10m10 run 1/3: 0 req/s',
      load: load(0.1),
      midRun: await adminSnapshot(url),
      afterRun: 'after',
    });
    assert.equal(file, join(dir, 'stalls', 'h2h2-c10m10-isthmus-h2h2-run1.txt'));
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^# isthmus h2c->h2c, h2h2-c10m10 run 1\/3: 0 req\/s\nload: \{"requests":1,/);
    assert.match(text, /# halfway through the run\n## GET \/clusters: 200\n.*rq_active::99/);
    assert.match(text, /# after the run\nafter\n$/);
  });
});
