// Which of two (or more) builds or Node flags of the proxy forwards faster: each variant runs as the
// data-plane bench runs Isthmus (an ingress gateway with routing, stats and the access log file, its own
// control plane on the load core, the proxy pinned to core 0), all started at once and idle but one, and
// wrk (-c50 by default, on the load core) loads them in turn, round after round, the order reversed each
// round. This machine's speed drifts by 10-40% over minutes, so back-to-back runs of one build and then the
// other measure the drift; alternating short rounds spreads it over every variant alike. Per round each
// variant's req/s is divided by the first variant's in the same round, and the median of those ratios is
// the answer (with the median req/s, CPU-ms per 1,000 requests and p99).
// Usage: node --import tsx bench/data-plane/ab.ts <name>=<entry>[,<node flag>...] ...
//   e.g. base=.bench-a/isthmus.mjs new=dist/bundle/isthmus.mjs
// BENCH_AB_ROUNDS (default 6), BENCH_AB_SECONDS (default 5), BENCH_AB_CONNECTIONS (default 50),
// BENCH_AB_KIND (http, https for TLS terminated at the gateway, or tcp for the tcp_proxy gateway), BENCH_AB_LOAD (wrk, or h2 for h2load -c10 -m10:
// cleartext HTTP/2 in, as the data-plane bench's h2-c10m10 shape; BENCH_AB_CONNECTIONS is then h2load's -c).

import { join } from 'node:path';
import { startIsthmus, type IsthmusTarget } from './isthmus-target.js';
import { median } from './measure.js';
import { findTools, startNginx, type Peer } from './peers.js';
import { freePorts, makeTempDir, removeTempDir } from './processes.js';
import { cpuTicks, gatewayKind, loadKind, MS_PER_TICK, parseVariants, positiveInt, type Variant } from './variants.js';
import { runWrk } from './wrk.js';
import { makeBenchCert } from './tls-cert.js';
import { runH2load } from './h2load.js';
import type { LoadResult } from './load.js';

const LOAD_CORE = 1;
const WARMUP_SECONDS = 2;

interface Run {
  readonly rps: number;
  readonly cpuMsPer1k: number;
  readonly p99Ms: number;
  readonly errors: number;
}

interface Started {
  readonly variant: Variant;
  readonly port: number;
  readonly target: IsthmusTarget;
}

const f = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

async function main(args: readonly string[]): Promise<void> {
  const variants = parseVariants(args);
  if (variants.length < 2) throw new Error('usage: ab.ts <name>=<entry>[,<node flag>...] <name>=<entry>[,...] ... (two or more)');
  const rounds = positiveInt('BENCH_AB_ROUNDS', 6);
  const seconds = positiveInt('BENCH_AB_SECONDS', 5);
  const h2 = loadKind('BENCH_AB_LOAD') === 'h2';
  const connections = positiveInt('BENCH_AB_CONNECTIONS', h2 ? 10 : 50);
  const kind = gatewayKind('BENCH_AB_KIND');
  if (h2 && kind !== 'http') throw new Error('BENCH_AB_LOAD=h2 loads the HTTP gateway: leave BENCH_AB_KIND unset');
  const { tools } = findTools();
  if (tools.nginx === undefined) throw new Error('nginx is not installed (it is the upstream)');
  const wrk = tools.wrk;
  const h2load = tools.h2load;
  if (h2 ? h2load === undefined : wrk === undefined) throw new Error(h2 ? 'h2load is not installed (apt-get install -y nghttp2-client)' : 'wrk is not installed (it is the load generator)');
  const load = (port: number, secs: number): Promise<LoadResult> =>
    h2 ? runH2load({ h2load: h2load as string, port, clients: connections, streams: 10, seconds: secs, core: LOAD_CORE }) : runWrk({ wrk: wrk as string, port, connections, seconds: secs, core: LOAD_CORE, tls: kind === 'https' });
  const dir = makeTempDir('isthmus-bench-ab-');
  let upstream: Peer | undefined;
  const started: Started[] = [];
  try {
    const [upstreamPort, ...ports] = await freePorts(variants.length + 1);
    if (upstreamPort === undefined) throw new Error('no free port');
    upstream = await startNginx(tools.nginx, join(dir, 'upstream'), upstreamPort, { kind: 'upstream' }, LOAD_CORE);
    const cert = kind === 'https' ? makeBenchCert(dir) : undefined;
    for (const [i, v] of variants.entries()) {
      const port = ports[i] as number;
      const t = await startIsthmus(kind, upstreamPort, port, { command: v.command, ...(cert !== undefined ? { cert } : {}) });
      if ('unavailable' in t) throw new Error(`${v.name}: ${t.unavailable}`);
      started.push({ variant: v, port, target: t });
      process.stdout.write(`${v.name}: ${v.command.join(' ')} ready on 127.0.0.1:${port}\n`);
    }
    for (const s of started) await load(s.port, WARMUP_SECONDS);
    const runs = new Map<string, Run[]>(variants.map((v) => [v.name, []]));
    const ratios = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? started : [...started].reverse();
      const thisRound = new Map<string, Run>();
      for (const s of order) {
        const t0 = cpuTicks(s.target.pid);
        const r = await load(s.port, seconds);
        const run: Run = { rps: r.rps, cpuMsPer1k: ((cpuTicks(s.target.pid) - t0) * MS_PER_TICK * 1000) / Math.max(1, r.requests), p99Ms: r.p99Ms, errors: r.errors };
        thisRound.set(s.variant.name, run);
        runs.get(s.variant.name)?.push(run);
        process.stdout.write(`round ${round}/${rounds}  ${s.variant.name.padEnd(12)} ${f(run.rps, 0).padStart(6)} req/s  ${f(run.cpuMsPer1k, 1).padStart(6)} CPU-ms/1k  p99 ${f(run.p99Ms, 2)} ms${run.errors > 0 ? `  ${run.errors} errors` : ''}\n`);
      }
      const first = thisRound.get(variants[0]?.name ?? '');
      for (const v of variants) {
        const r = thisRound.get(v.name);
        if (first !== undefined && r !== undefined) ratios.get(v.name)?.push(r.rps / first.rps);
      }
    }
    const lines = [
      '',
      `${kind} through the gateway, ${h2 ? `h2load -c${connections} -m10` : `wrk -c${connections}`}, ${rounds} alternating rounds of ${seconds} s; medians`,
      '',
      `| variant | req/s | × ${variants[0]?.name} (per-round ratios: median, range) | CPU-ms per 1,000 req | p99 ms | errors |`,
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const v of variants) {
      const rs = runs.get(v.name) ?? [];
      const q = ratios.get(v.name) ?? [];
      lines.push(
        `| ${v.name} | ${f(median(rs.map((r) => r.rps)), 0)} | ${f(median(q), 3)} (${f(Math.min(...q), 3)}–${f(Math.max(...q), 3)}) | ${f(median(rs.map((r) => r.cpuMsPer1k)), 1)} | ${f(median(rs.map((r) => r.p99Ms)), 2)} | ${rs.reduce((a, r) => a + r.errors, 0)} |`,
      );
    }
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    for (const s of started) await s.target.stop();
    await upstream?.stop();
    removeTempDir(dir);
  }
}

await main(process.argv.slice(2));
