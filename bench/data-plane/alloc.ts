// What the proxy allocates per forwarded request, and where: every byte of it is work for V8's young-generation
// collector, which runs once per semi-space (1 MiB, src/proxy/heap-flags.ts) allocated, so at 50 connections
// bytes per request set how many scavenges each 1,000 requests cost, and at 1,000 req/s how many requests meet
// a scavenge's pause. The proxy runs as the data-plane bench runs it (an ingress gateway with routing, stats
// and the access log file, its control plane on the load core, pinned to core 0) with V8's sampling heap
// profiler preloaded (alloc-sampler.mjs) counting every sampled allocation, also the ones already collected;
// it samples only while wrk loads it. Prints bytes per request, the functions that allocate most (bytes per
// request each, V8's own estimate from its samples) and where the profile went (Chrome DevTools opens it).
// Usage: node --import tsx bench/data-plane/alloc.ts [entry, default dist/bin/isthmus.js]
// BENCH_ALLOC_SECONDS (default 5), BENCH_ALLOC_CONNECTIONS (default 50), BENCH_ALLOC_TOP (default 25),
// BENCH_ALLOC_KIND (http, https for TLS terminated at the gateway, or tcp for the tcp_proxy gateway), BENCH_ALLOC_LOAD (wrk, or h2 for h2load -c10 -m10:
// cleartext HTTP/2 in; BENCH_ALLOC_CONNECTIONS is then h2load's -c).

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { DIST_ENTRY } from './dist-build.js';
import { startIsthmus } from './isthmus-target.js';
import { findTools, startNginx, type Peer } from './peers.js';
import { freePorts, makeTempDir, removeTempDir } from './processes.js';
import { gatewayKind, loadKind, positiveInt } from './variants.js';
import { runWrk } from './wrk.js';
import { makeBenchCert } from './tls-cert.js';
import { runH2load } from './h2load.js';
import type { LoadResult } from './load.js';

const LOAD_CORE = 1;
const WARMUP_SECONDS = 2;
const SAMPLER = fileURLToPath(new URL('./alloc-sampler.mjs', import.meta.url));
const WRITE_DEADLINE_MS = 30_000;

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

/** Bytes by function (name, file and line), summed over every stack the profile saw it allocate in. */
export function bytesByFunction(head: ProfileNode): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (n: ProfileNode): void => {
    if (n.selfSize > 0) {
      const cf = n.callFrame;
      const file = cf.url === '' ? '' : ` ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
      const key = `${cf.functionName === '' ? '(anonymous)' : cf.functionName}${file}`;
      out.set(key, (out.get(key) ?? 0) + n.selfSize);
    }
    for (const c of n.children) visit(c);
  };
  visit(head);
  return out;
}

async function main(entry: string): Promise<void> {
  const seconds = positiveInt('BENCH_ALLOC_SECONDS', 5);
  const h2 = loadKind('BENCH_ALLOC_LOAD') === 'h2';
  const connections = positiveInt('BENCH_ALLOC_CONNECTIONS', h2 ? 10 : 50);
  const top = positiveInt('BENCH_ALLOC_TOP', 25);
  const kind = gatewayKind('BENCH_ALLOC_KIND');
  if (h2 && kind !== 'http') throw new Error('BENCH_ALLOC_LOAD=h2 loads the HTTP gateway: leave BENCH_ALLOC_KIND unset');
  const keep = process.env['BENCH_ALLOC_KEEP'] === '1';
  const { tools } = findTools();
  if (tools.nginx === undefined) throw new Error('nginx is not installed (it is the upstream)');
  const { wrk, h2load } = tools;
  if (h2 ? h2load === undefined : wrk === undefined) throw new Error(h2 ? 'h2load is not installed (apt-get install -y nghttp2-client)' : 'wrk is not installed (it is the load generator)');
  const load = (port: number, secs: number): Promise<LoadResult> =>
    h2 ? runH2load({ h2load: h2load as string, port, clients: connections, streams: 10, seconds: secs, core: LOAD_CORE }) : runWrk({ wrk: wrk as string, port, connections, seconds: secs, core: LOAD_CORE, tls: kind === 'https' });
  // makeTempDir's folders are removed when the bench exits; a kept profile gets a folder of its own.
  const dir = keep ? mkdtempSync(join(tmpdir(), 'isthmus-bench-alloc-')) : makeTempDir('isthmus-bench-alloc-');
  const profileFile = join(dir, 'alloc.heapprofile');
  process.env['ISTHMUS_ALLOC_PROFILE'] = profileFile;
  let upstream: Peer | undefined;
  let stop: (() => Promise<void>) | undefined;
  try {
    const [upstreamPort, port] = await freePorts(2);
    if (upstreamPort === undefined || port === undefined) throw new Error('no free port');
    upstream = await startNginx(tools.nginx, join(dir, 'upstream'), upstreamPort, { kind: 'upstream' }, LOAD_CORE);
    const cert = kind === 'https' ? makeBenchCert(dir) : undefined;
    const t = await startIsthmus(kind, upstreamPort, port, { command: [process.execPath, '--import', SAMPLER, entry], ...(cert !== undefined ? { cert } : {}) });
    if ('unavailable' in t) throw new Error(t.unavailable);
    stop = t.stop;
    await load(port, WARMUP_SECONDS);
    process.kill(t.pid, 'SIGUSR2');
    await sleep(100);
    const r = await load(port, seconds);
    process.kill(t.pid, 'SIGUSR2');
    const deadline = Date.now() + WRITE_DEADLINE_MS;
    while (!existsSync(profileFile) && Date.now() < deadline) await sleep(100);
    await sleep(200); // the file is written in one call; let it finish
    const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as { head?: ProfileNode; error?: string };
    if (profile.head === undefined) throw new Error(`the sampler failed: ${profile.error ?? 'no profile'}`);
    const byFn = bytesByFunction(profile.head);
    const total = [...byFn.values()].reduce((a, b) => a + b, 0);
    const perReq = (b: number): string => (b / Math.max(1, r.requests)).toFixed(0).padStart(7);
    const lines = [
      `${kind} through the gateway (${entry}), ${h2 ? `h2load -c${connections} -m10` : `wrk -c${connections}`} for ${seconds} s: ${r.requests} requests (${r.rps.toFixed(0)} req/s under the profiler), ${r.errors} errors`,
      `allocated: ${perReq(total).trim()} bytes per request`,
      '',
      'bytes/req  share  function',
    ];
    for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${perReq(v)}  ${((100 * v) / total).toFixed(1).padStart(4)}%  ${k}`);
    lines.push('', keep ? `profile: ${profileFile}` : 'profile: removed at the end (BENCH_ALLOC_KEEP=1 keeps it)');
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await stop?.();
    await upstream?.stop();
    if (!keep) removeTempDir(dir);
  }
}

await main(process.argv[2] ?? DIST_ENTRY);
