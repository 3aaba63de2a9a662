// Where the proxy's resident memory goes at 1,000 req/s (issue 4: at most 60 MB), and what each change
// costs in CPU: builds or Node flags (variants) run as the data-plane bench runs Isthmus (an ingress
// gateway with routing, stats and access logging, control plane on the load core, proxy pinned to core
// 0), a fresh control plane and proxy per variant and run. Per run: VmRSS, RssAnon and the V8 heap (admin
// /memory) idle after the config and one request; VmRSS polled and VmHWM while an open loop sends 1,000
// req/s for BENCH_MEM_SECONDS (default 30); CPU-ms per 1,000 requests over that fixed request count.
// Variants run one at a time, in another order each run. CPU depends on how busy the machine is (memory
// much less, as long as the proxy keeps up): with BENCH_MEM_TOGETHER=1 the variants of a run take their
// load at the same time, side by side on the proxy core, so other work slows them alike (compare two at
// once: each adds 1,000 req/s to the core).
// Usage: node --import tsx bench/data-plane/memory.ts <name>=<entry>[,<node flag>...] ...
//   e.g. base=dist/bundle/isthmus.mjs semi2=dist/bundle/isthmus.mjs,--max-semi-space-size=2
// BENCH_MEM_RUNS (default 3), BENCH_MEM_SECONDS (default 30), BENCH_MEM_RATE (default 1000); BENCH_MEM_CP_ROOT runs the control plane from
// another checkout (e.g. `git archive HEAD` with node_modules linked) while this tree's is mid-change.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startIsthmus, type IsthmusTarget } from './isthmus-target.js';
import { runOpenLoop } from './load.js';
import { median } from './measure.js';
import { findTools, startNginx, type Peer } from './peers.js';
import { freePorts, makeTempDir, removeTempDir } from './processes.js';
import { cpuTicks, MS_PER_TICK, parseVariants, positiveInt, type Variant } from './variants.js';

const LOAD_CORE = 1;
/** Requests per second per variant: BENCH_MEM_RATE, default 1,000 (issue 4's memory target is at 1,000). */
const RATE = positiveInt('BENCH_MEM_RATE', 1000);
const WARMUP_SECONDS = 1;
const SETTLE_MS = 3_000;
const POLL_MS = 100;
const MB = 1024 * 1024;
/** Share of the scheduled requests that must be answered (without errors) for a run to count. */
const MIN_ANSWERED = 0.98;

/** /proc/<pid>/status fields, in MB. */
interface Status {
  readonly rss: number;
  readonly hwm: number;
  readonly anon: number;
  readonly file: number;
}

interface Sample {
  readonly idle: Status;
  readonly idleHeapMb: number;
  readonly loadRssMaxMb: number;
  readonly loadRssEndMb: number;
  readonly hwmMb: number;
  readonly loadHeapMb: number;
  readonly cpuMsPer1k: number;
  /** The generator's p99 latency through this proxy (ms): compare variants loaded side by side. */
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
}

function readStatus(pid: number): Status {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m?.[1] === undefined ? Number.NaN : Number(m[1]) / 1024;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** V8's used heap from the admin's /memory (Envoy's `allocated`), in MB; NaN without an admin. */
async function heapUsedMb(adminUrl: string | undefined): Promise<number> {
  if (adminUrl === undefined) return Number.NaN;
  try {
    const r = await fetch(new URL('/memory', adminUrl));
    const j = (await r.json()) as { allocated?: string };
    return Number(j.allocated ?? Number.NaN) / MB;
  } catch {
    return Number.NaN;
  }
}

interface Started {
  readonly variant: Variant;
  readonly listenPort: number;
  readonly target: IsthmusTarget;
}

/** Loads one started proxy at RATE for `seconds` and reads what it cost. */
async function loadOne(s: Started, idle: Status, idleHeapMb: number, seconds: number): Promise<Sample> {
  const pid = s.target.pid;
  let ticks0 = 0;
  let rssMax = 0;
  let timer: NodeJS.Timeout | undefined;
  const load = await runOpenLoop({
    port: s.listenPort,
    rate: RATE,
    seconds,
    warmupSeconds: WARMUP_SECONDS,
    core: LOAD_CORE,
    onMeasuring: () => {
      ticks0 = cpuTicks(pid);
      timer = setInterval(() => (rssMax = Math.max(rssMax, readStatus(pid).rss)), POLL_MS);
    },
  });
  if (timer !== undefined) clearInterval(timer);
  const ticks = cpuTicks(pid) - ticks0;
  const end = readStatus(pid);
  const loadHeapMb = await heapUsedMb(s.target.adminUrl);
  return {
    idle,
    idleHeapMb,
    loadRssMaxMb: Math.max(rssMax, end.rss),
    loadRssEndMb: end.rss,
    hwmMb: end.hwm,
    loadHeapMb,
    cpuMsPer1k: (ticks * MS_PER_TICK * 1000) / Math.max(1, load.requests),
    p99Ms: load.p99Ms,
    requests: load.requests,
    errors: load.errors,
  };
}

/**
 * One run: every variant started (fresh control plane and proxy each), then all loaded at the same time,
 * each by its own generator, so whatever else the machine runs slows them alike.
 */
async function measureRun(variants: readonly Variant[], upstreamPort: number, listenPorts: readonly number[], seconds: number): Promise<Map<string, Sample | string>> {
  const cpRoot = process.env['BENCH_MEM_CP_ROOT'];
  const out = new Map<string, Sample | string>();
  const started: Started[] = [];
  try {
    for (const [i, v] of variants.entries()) {
      const listenPort = listenPorts[i] as number;
      const t = await startIsthmus('http', upstreamPort, listenPort, { command: v.command, ...(cpRoot !== undefined && cpRoot !== '' ? { controlPlaneRoot: cpRoot } : {}) });
      if ('unavailable' in t) out.set(v.name, t.unavailable);
      else started.push({ variant: v, listenPort, target: t });
    }
    await sleep(SETTLE_MS);
    const idle = await Promise.all(started.map(async (s) => ({ status: readStatus(s.target.pid), heap: await heapUsedMb(s.target.adminUrl) })));
    const samples = await Promise.all(started.map((s, i) => loadOne(s, idle[i]?.status as Status, idle[i]?.heap ?? Number.NaN, seconds)));
    started.forEach((s, i) => out.set(s.variant.name, samples[i] as Sample));
    return out;
  } finally {
    await Promise.all(started.map((s) => s.target.stop()));
  }
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '–');

function table(variants: readonly Variant[], samples: ReadonlyMap<string, Sample[]>, runs: number, seconds: number, together: boolean): string[] {
  const out = [
    `medians of ${runs} runs (overloaded runs left out)${together ? ', variants loaded side by side' : ''}; load: ${RATE} req/s open loop for ${seconds} s; MB = 2^20 bytes`,
    '',
    `| variant | idle VmRSS | idle RssAnon | idle V8 heap used | ${RATE} req/s: VmRSS max | VmRSS at end | VmHWM | V8 heap used after | CPU-ms per 1,000 req | p99 ms |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const v of variants) {
    const s = samples.get(v.name) ?? [];
    const m = (f: (x: Sample) => number): string => f1(median(s.map(f)));
    const m2 = (f: (x: Sample) => number): string => f2(median(s.map(f)));
    out.push(`| ${v.name} | ${m((x) => x.idle.rss)} | ${m((x) => x.idle.anon)} | ${m((x) => x.idleHeapMb)} | ${m((x) => x.loadRssMaxMb)} | ${m((x) => x.loadRssEndMb)} | ${m((x) => x.hwmMb)} | ${m((x) => x.loadHeapMb)} | ${m((x) => x.cpuMsPer1k)} | ${m2((x) => x.p99Ms)} |`);
  }
  return out;
}

async function main(args: readonly string[]): Promise<void> {
  const variants = parseVariants(args);
  if (variants.length === 0) throw new Error('usage: memory.ts <name>=<entry>[,<node flag>...] ...');
  const runs = positiveInt('BENCH_MEM_RUNS', 3);
  const seconds = positiveInt('BENCH_MEM_SECONDS', 30);
  const together = process.env['BENCH_MEM_TOGETHER'] === '1';
  const { tools } = findTools();
  if (tools.nginx === undefined) throw new Error('nginx is not installed (it is the upstream)');
  const dir = makeTempDir('isthmus-bench-mem-');
  let upstream: Peer | undefined;
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  try {
    const [upstreamPort, ...listenPorts] = await freePorts(variants.length + 1);
    if (upstreamPort === undefined) throw new Error('no free port');
    upstream = await startNginx(tools.nginx, join(dir, 'upstream'), upstreamPort, { kind: 'upstream' }, LOAD_CORE);
    for (let run = 1; run <= runs; run++) {
      // Each run starts the variants in another order.
      const order = variants.map((_, i) => variants[(i + run - 1) % variants.length] as Variant);
      const results = new Map<string, Sample | string>();
      if (together) for (const [k, r] of await measureRun(order, upstreamPort, listenPorts, seconds)) results.set(k, r);
      else for (const v of order) for (const [k, r] of await measureRun([v], upstreamPort, listenPorts, seconds)) results.set(k, r);
      for (const v of variants) {
        const s = results.get(v.name);
        if (s === undefined || typeof s === 'string') {
          process.stdout.write(`run ${run} ${v.name}: unavailable: ${s ?? 'not run'}\n`);
          continue;
        }
        // A run the proxy (or the generator) did not keep up with measures the overload, not the proxy.
        const kept = s.errors === 0 && s.requests >= MIN_ANSWERED * RATE * seconds;
        if (kept) samples.get(v.name)?.push(s);
        process.stdout.write(
          `run ${run} ${v.name.padEnd(12)} idle RSS ${f1(s.idle.rss)} (anon ${f1(s.idle.anon)}, file ${f1(s.idle.file)}) heap ${f1(s.idleHeapMb)} | load RSS max ${f1(s.loadRssMaxMb)} end ${f1(s.loadRssEndMb)} HWM ${f1(s.hwmMb)} heap ${f1(s.loadHeapMb)} | CPU ${f1(s.cpuMsPer1k)} ms/1k p99 ${f2(s.p99Ms)} ms (${s.requests} req, ${s.errors} errors)${kept ? '' : ' OVERLOADED, not counted'}\n`,
        );
      }
    }
    process.stdout.write('\n' + table(variants, samples, runs, seconds, together).join('\n') + '\n');
  } finally {
    await upstream?.stop();
    removeTempDir(dir);
  }
}

await main(process.argv.slice(2));
