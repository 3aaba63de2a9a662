// `npm run bench -- up`: from `npm start` to the first successful request through the ingress gateway
// (the demo's /productpage, which calls details, reviews and ratings through their sidecars), as a new
// user meets it, with dist/ already built (the build is measured apart: it runs once per change). Also
// the time until `isthmus up` reports every pod ready, and the resident memory of the whole mesh then.
// Issue 5's target is under 5 s to the first request. Runs 3 times; prints each run and the median.

import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** RSS in MB of `pid` and all its descendants (from /proc). */
function treeRssMb(pid: number): number {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,rss='], { encoding: 'utf8' });
  const rows = out.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
  const children = new Map<number, number[]>();
  for (const [p, pp] of rows) children.set(pp, [...(children.get(pp) ?? []), p]);
  const rss = new Map(rows.map(([p, , r]) => [p, r]));
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    total += rss.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total / 1024;
}

async function once(): Promise<{ firstOkMs: number; readyMs: number; rssMb: number }> {
  const ingress = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['scripts/start.mjs', '--ingress-port', String(ingress), '--xds-port', '0', '--monitoring-port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let firstOkMs = -1;
  const deadline = t0 + 120_000;
  while (performance.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${ingress}/productpage`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.ok) {
        firstOkMs = performance.now() - t0;
        break;
      }
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  while (!out.includes('ready in') && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const readyMs = Number(/ready in ([\d.]+)s/.exec(out)?.[1] ?? 'NaN') * 1000;
  const rssMb = treeRssMb(child.pid as number);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
  return { firstOkMs, readyMs, rssMb };
}

export async function benchUp(log: (line: string) => void): Promise<void> {
  log('\n## isthmus up: npm start to the first 200 through the gateway (the Bookinfo demo, dist/ built)');
  const stamp = (() => {
    try {
      return readFileSync(`${ROOT}/dist/.build-stamp`, 'utf8').trim();
    } catch {
      return undefined;
    }
  })();
  if (stamp === undefined) log('(dist/ not built by npm start yet: the first run includes the build)');
  const runs: { firstOkMs: number; readyMs: number; rssMb: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await once();
    runs.push(r);
    log(`run ${i + 1}: first 200 after ${(r.firstOkMs / 1000).toFixed(2)} s; "ready in" ${(r.readyMs / 1000).toFixed(1)} s (from isthmus up's own start); mesh RSS ${r.rssMb.toFixed(0)} MB (control plane, 7 proxies, 6 apps)`);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  log(`median: first 200 after ${(median(runs.map((r) => r.firstOkMs)) / 1000).toFixed(2)} s (target < 5 s); mesh RSS ${median(runs.map((r) => r.rssMb)).toFixed(0)} MB`);
}
