// Data-plane benchmark: Isthmus's proxy against nginx and HAProxy in the same run, on the same upstream
// (an nginx answering "ok"), under the same load, interleaved, medians reported. The proxy under test
// sits alone on core 0; the upstream and the load generators share core 1 (docs' performance method).
// Shapes: h1-c50 and h1-c1 (wrk, closed loop), h1-1krps (our open-loop generator at 1,000 req/s, for
// latency and cost per request at a steady load) and h2-c10m10 (h2load: cleartext HTTP/2 with prior
// knowledge from the client, 10 connections of 10 streams, HTTP/1.1 to the upstream; the h2c configurations
// run only in it, against their own baseline, nginx answering h2c itself), h2h2-c10m10 (the same load, HTTP/2
// on to an nginx answering h2c, as a proxy talks to a gRPC service: nginx's grpc_pass, HAProxy's `proto h2`,
// a ServiceEntry with protocol HTTP2) and tls-c50 (wrk over HTTPS: TLS
// terminated by the proxy with one throwaway certificate, HTTP/1.1 to the upstream; its own configurations
// and baseline, nginx answering over TLS itself). Every configuration a chosen
// shape measures is started once up front and idles while the others are measured. Settings:
// BENCH_DP_SECONDS (per run, default 10), BENCH_DP_RUNS (default 3), BENCH_DP_ONLY=nginx,haproxy,... (direct
// direct-h2, direct-h2h2 and direct-tls always run: they are the baselines), BENCH_DP_SHAPES=h1-c50,... (default all). A missing
// Debian package skips the rows that need it and prints the apt-get line; it never fails the bench. A run
// through Isthmus that measures next to nothing leaves the proxy's admin /clusters and /stats, read halfway
// through and after it, in a file the bench names (stall-dump.ts).

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureDist } from './dist-build.js';
import { startIsthmus } from './isthmus-target.js';
import { makeBenchCert, type BenchCert } from './tls-cert.js';
import { runOpenLoop, type LoadResult } from './load.js';
import { startMeasurement, type Measurement, type Usage } from './measure.js';
import { findTools, startHaproxy, startNginx, type Peer, type Tools } from './peers.js';
import { canPin, freePorts, makeTempDir, removeTempDir } from './processes.js';
import { summarize, type ConfigInfo, type Row, type RunSample } from './results.js';
import { fixedRateTable, targetLines, throughputTable } from './table.js';
import { runWrk } from './wrk.js';
import { runH2load } from './h2load.js';
import { positiveInt } from './variants.js';
import { adminSnapshot, looksStalled, stallReportDir, writeStallReport } from './stall-dump.js';

const PROXY_CORE = 0;
const LOAD_CORE = 1;
const WARMUP_SECONDS = 1;
const FIXED_RATE = 1000;
/** Cores busier than this before the bench starts mean something else is running. */
const BUSY_PCT = 15;
const IDLE_CHECK_MS = 1_000;
/** An open-loop request leaving this late means the generator, not the proxy, set the latency. */
const LAG_WARN_MS = 10;
/** More than this much of the proxy's core used by other processes disturbs the run. */
const FOREIGN_PCT = 20;

const CONFIGS: readonly ConfigInfo[] = [
  { name: 'direct', label: 'direct (no proxy)', layer: 'direct' },
  { name: 'nginx', label: 'nginx', layer: 'l7' },
  { name: 'haproxy', label: 'haproxy', layer: 'l7' },
  { name: 'isthmus', label: 'isthmus', layer: 'l7' },
  { name: 'nginx-stream', label: 'L4 nginx stream', layer: 'l4' },
  { name: 'haproxy-tcp', label: 'L4 haproxy tcp', layer: 'l4' },
  { name: 'isthmus-tcp', label: 'L4 isthmus tcp', layer: 'l4' },
  { name: 'direct-h2', label: 'direct h2c (no proxy)', layer: 'direct', protocol: 'h2' },
  { name: 'nginx-h2', label: 'nginx h2c', layer: 'l7', protocol: 'h2' },
  { name: 'haproxy-h2', label: 'haproxy h2c', layer: 'l7', protocol: 'h2' },
  { name: 'isthmus-h2', label: 'isthmus h2c', layer: 'l7', protocol: 'h2' },
  { name: 'direct-h2h2', label: 'direct h2c (no proxy)', layer: 'direct', protocol: 'h2h2' },
  { name: 'nginx-h2h2', label: 'nginx h2c->h2c (grpc_pass)', layer: 'l7', protocol: 'h2h2' },
  { name: 'haproxy-h2h2', label: 'haproxy h2c->h2c', layer: 'l7', protocol: 'h2h2' },
  { name: 'isthmus-h2h2', label: 'isthmus h2c->h2c', layer: 'l7', protocol: 'h2h2' },
  { name: 'direct-tls', label: 'direct https (no proxy)', layer: 'direct', protocol: 'tls' },
  { name: 'nginx-tls', label: 'nginx https', layer: 'l7', protocol: 'tls' },
  { name: 'haproxy-tls', label: 'haproxy https', layer: 'l7', protocol: 'tls' },
  { name: 'isthmus-tls', label: 'isthmus https', layer: 'l7', protocol: 'tls' },
];

type Shape =
  | { readonly name: string; readonly kind: 'wrk'; readonly connections: number; readonly tls?: boolean; readonly detail: string }
  | { readonly name: string; readonly kind: 'rate'; readonly rate: number; readonly detail: string }
  | { readonly name: string; readonly kind: 'h2load'; readonly clients: number; readonly streams: number; readonly upstreamH2?: boolean; readonly detail: string };

const SHAPES: readonly Shape[] = [
  { name: 'h1-c50', kind: 'wrk', connections: 50, detail: 'wrk -t1 -c50' },
  { name: 'h1-c1', kind: 'wrk', connections: 1, detail: 'wrk -t1 -c1' },
  { name: 'h1-1krps', kind: 'rate', rate: FIXED_RATE, detail: 'open loop, 1,000 req/s, keep-alive' },
  { name: 'h2-c10m10', kind: 'h2load', clients: 10, streams: 10, detail: 'h2load -t1 -c10 -m10, h2c prior knowledge in, HTTP/1.1 to the upstream; h2load reports no latency percentiles' },
  { name: 'h2h2-c10m10', kind: 'h2load', clients: 10, streams: 10, upstreamH2: true, detail: 'h2load -t1 -c10 -m10, h2c prior knowledge in, h2c to the upstream (as for a gRPC service); h2load reports no latency percentiles' },
  { name: 'tls-c50', kind: 'wrk', connections: 50, tls: true, detail: 'wrk -t1 -c50 over HTTPS (a TLS handshake per connection, then keep-alive), HTTP/1.1 to the upstream' },
];

/** What clients of a shape speak (and, for h2h2, the proxy to the upstream): HTTP/2, HTTP/1.1 over TLS, or cleartext HTTP/1.1 (undefined). */
const shapeProtocol = (shape: Shape): ConfigInfo['protocol'] => (shape.kind === 'h2load' ? (shape.upstreamH2 === true ? 'h2h2' : 'h2') : shape.kind === 'wrk' && shape.tls === true ? 'tls' : undefined);

/** Whether a configuration takes part in a shape: the h2c ones only in the HTTP/2 shape, the TLS ones only in the TLS shape. */
const runsIn = (c: ConfigInfo, shape: Shape): boolean => c.protocol === shapeProtocol(shape);

interface Settings {
  readonly seconds: number;
  readonly runs: number;
  readonly configs: readonly ConfigInfo[];
  readonly shapes: readonly Shape[];
}

/** A configuration as started: where to send load and whose CPU and memory to count. */
type Started =
  | { readonly kind: 'up'; readonly port: number; readonly pids: () => number[]; readonly stop: () => Promise<void>; readonly adminUrl?: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

function readSettings(): Settings {
  const only = (process.env['BENCH_DP_ONLY'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = only.filter((n) => !CONFIGS.some((c) => c.name === n));
  if (unknown.length > 0) throw new Error(`BENCH_DP_ONLY: unknown ${unknown.join(', ')}; choose from ${CONFIGS.map((c) => c.name).join(', ')}`);
  const shapes = (process.env['BENCH_DP_SHAPES'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknownShapes = shapes.filter((n) => !SHAPES.some((s) => s.name === n));
  if (unknownShapes.length > 0) throw new Error(`BENCH_DP_SHAPES: unknown ${unknownShapes.join(', ')}; choose from ${SHAPES.map((s) => s.name).join(', ')}`);
  const chosenShapes = shapes.length === 0 ? SHAPES : SHAPES.filter((s) => shapes.includes(s.name));
  const chosen = only.length === 0 ? CONFIGS : CONFIGS.filter((c) => c.layer === 'direct' || only.includes(c.name));
  return {
    seconds: positiveInt('BENCH_DP_SECONDS', 10),
    runs: positiveInt('BENCH_DP_RUNS', 3),
    // Only what a chosen shape measures is started (the h2c configurations only for the HTTP/2 shape).
    configs: chosen.filter((c) => chosenShapes.some((s) => runsIn(c, s))),
    shapes: chosenShapes,
  };
}

/** The baseline rows each shape's ratios are taken against, by what its clients speak. */
const BASELINES: Readonly<Record<'h1' | 'h2' | 'h2h2' | 'tls', { readonly direct: string; readonly nginx: string }>> = {
  h1: { direct: 'direct', nginx: 'nginx' },
  h2: { direct: 'direct-h2', nginx: 'nginx-h2' },
  h2h2: { direct: 'direct-h2h2', nginx: 'nginx-h2h2' },
  tls: { direct: 'direct-tls', nginx: 'nginx-tls' },
};

function peerStarted(port: number, peer: Peer): Started {
  return { kind: 'up', port, pids: () => peer.pids(), stop: () => peer.stop() };
}

async function startConfig(c: ConfigInfo, tools: Tools, dir: string, port: number, upstream: { port: number }, noDist: string | undefined, cert: () => BenchCert, h2Upstream: () => Promise<number>): Promise<Started> {
  const up = upstream.port;
  const missing = (what: string): Started => ({ kind: 'unavailable', reason: `${what} is not installed` });
  try {
    switch (c.name) {
      case 'direct':
        return { kind: 'up', port: up, pids: () => [], stop: async () => undefined };
      case 'direct-h2': {
        // Its own nginx on the load core, answering h2c: the baseline has no proxy, so its CPU is not counted.
        if (tools.nginx === undefined) return missing('nginx');
        const peer = await startNginx(tools.nginx, join(dir, c.name), port, { kind: 'upstream-h2' }, LOAD_CORE);
        return { kind: 'up', port, pids: () => [], stop: () => peer.stop() };
      }
      case 'direct-h2h2':
        // The h2c upstream itself, answered by the same nginx the h2h2 proxies forward to (on the load core).
        if (tools.nginx === undefined) return missing('nginx');
        return { kind: 'up', port: await h2Upstream(), pids: () => [], stop: async () => undefined };
      case 'nginx-h2h2':
        if (tools.nginx === undefined) return missing('nginx');
        return peerStarted(port, await startNginx(tools.nginx, join(dir, c.name), port, { kind: 'h2h2', upstreamPort: await h2Upstream() }, PROXY_CORE));
      case 'haproxy-h2h2':
        if (tools.haproxy === undefined) return missing('haproxy');
        return peerStarted(port, await startHaproxy(tools.haproxy, join(dir, c.name), port, 'h2h2', await h2Upstream(), PROXY_CORE));
      case 'direct-tls': {
        // Its own nginx on the load core, answering over TLS: the baseline has no proxy, so its CPU is not counted.
        if (tools.nginx === undefined) return missing('nginx');
        const peer = await startNginx(tools.nginx, join(dir, c.name), port, { kind: 'upstream-tls', cert: cert() }, LOAD_CORE);
        return { kind: 'up', port, pids: () => [], stop: () => peer.stop() };
      }
      case 'nginx-tls':
        if (tools.nginx === undefined) return missing('nginx');
        return peerStarted(port, await startNginx(tools.nginx, join(dir, c.name), port, { kind: 'https', upstreamPort: up, cert: cert() }, PROXY_CORE));
      case 'haproxy-tls':
        if (tools.haproxy === undefined) return missing('haproxy');
        return peerStarted(port, await startHaproxy(tools.haproxy, join(dir, c.name), port, 'https', up, PROXY_CORE, cert()));
      case 'nginx-h2':
        if (tools.nginx === undefined) return missing('nginx');
        return peerStarted(port, await startNginx(tools.nginx, join(dir, c.name), port, { kind: 'h2', upstreamPort: up }, PROXY_CORE));
      case 'haproxy-h2':
        if (tools.haproxy === undefined) return missing('haproxy');
        return peerStarted(port, await startHaproxy(tools.haproxy, join(dir, c.name), port, 'h2c', up, PROXY_CORE));
      case 'nginx':
        if (tools.nginx === undefined) return missing('nginx');
        return peerStarted(port, await startNginx(tools.nginx, join(dir, c.name), port, { kind: 'http', upstreamPort: up }, PROXY_CORE));
      case 'nginx-stream':
        if (tools.nginx === undefined || tools.stream === undefined) return missing("nginx's stream module (libnginx-mod-stream)");
        return peerStarted(port, await startNginx(tools.nginx, join(dir, c.name), port, { kind: 'stream', upstreamPort: up, module: tools.stream }, PROXY_CORE));
      case 'haproxy':
      case 'haproxy-tcp':
        if (tools.haproxy === undefined) return missing('haproxy');
        return peerStarted(port, await startHaproxy(tools.haproxy, join(dir, c.name), port, c.name === 'haproxy' ? 'http' : 'tcp', up, PROXY_CORE));
      case 'isthmus':
      case 'isthmus-h2':
      case 'isthmus-tls':
      case 'isthmus-h2h2':
      case 'isthmus-tcp': {
        if (noDist !== undefined) return { kind: 'unavailable', reason: noDist };
        // The gateway's HTTP listener takes HTTP/1.1 and, with prior knowledge, cleartext HTTP/2 alike.
        const kind = c.name === 'isthmus-tcp' ? 'tcp' : c.name === 'isthmus-tls' ? 'https' : 'http';
        const h2h2 = c.name === 'isthmus-h2h2';
        const r = await startIsthmus(kind, h2h2 ? await h2Upstream() : up, port, c.name === 'isthmus-tls' ? { cert: cert() } : h2h2 ? { upstreamH2: true } : {});
        if ('unavailable' in r) return { kind: 'unavailable', reason: r.unavailable };
        return { kind: 'up', port, pids: () => r.pids(), stop: () => r.stop(), ...(r.adminUrl !== undefined ? { adminUrl: r.adminUrl } : {}) };
      }
      default:
        return { kind: 'unavailable', reason: `no way to start ${c.name}` };
    }
  } catch (e) {
    return { kind: 'unavailable', reason: e instanceof Error ? e.message : String(e) };
  }
}

async function measureOnce(shape: Shape, target: { port: number; pids: () => number[] }, seconds: number, tools: Tools): Promise<RunSample> {
  const pids = target.pids();
  let load: LoadResult;
  let usage: Usage;
  const notes: string[] = [];
  if (shape.kind === 'h2load') {
    if (tools.h2load === undefined) throw new Error('h2load is not installed');
    const o = { h2load: tools.h2load, port: target.port, clients: shape.clients, streams: shape.streams, core: LOAD_CORE };
    await runH2load({ ...o, seconds: WARMUP_SECONDS });
    const m = startMeasurement(pids);
    load = await runH2load({ ...o, seconds });
    usage = m.finish();
  } else if (shape.kind === 'wrk') {
    if (tools.wrk === undefined) throw new Error('wrk is not installed');
    const o = { wrk: tools.wrk, port: target.port, connections: shape.connections, core: LOAD_CORE, tls: shape.tls === true };
    await runWrk({ ...o, seconds: WARMUP_SECONDS });
    const m = startMeasurement(pids);
    load = await runWrk({ ...o, seconds });
    usage = m.finish();
  } else {
    let m: Measurement | undefined;
    const r = await runOpenLoop({
      port: target.port,
      rate: shape.rate,
      seconds,
      warmupSeconds: WARMUP_SECONDS,
      core: LOAD_CORE,
      onMeasuring: () => (m = startMeasurement(pids)),
    });
    usage = (m ?? startMeasurement(pids)).finish();
    load = r;
    if (r.maxLagMs > LAG_WARN_MS) notes.push(`generator up to ${r.maxLagMs.toFixed(1)} ms behind schedule (core ${LOAD_CORE} overloaded)`);
  }
  // Core 0 is the proxy's alone: whatever else ran there competed with it.
  const foreign = usage.core0Pct - (100 * usage.cpuSeconds) / usage.seconds;
  if (pids.length > 0 && foreign > FOREIGN_PCT) notes.push(`other processes took ${foreign.toFixed(0)}% of core ${PROXY_CORE}`);
  return notes.length === 0 ? { load, usage } : { load, usage, note: notes.join('; ') };
}

function progress(shape: string, run: number, runs: number, c: ConfigInfo, s: RunSample): string {
  const proxy = c.layer === 'direct' ? '' : `  CPU ${((1e6 * s.usage.cpuSeconds) / Math.max(1, s.load.requests)).toFixed(1)} ms/1k  RSS ${s.usage.rssMaxMb.toFixed(1)} MB`;
  const errors = s.load.errors > 0 ? `  ${s.load.errors} errors` : '';
  const note = s.note !== undefined ? `  (${s.note})` : '';
  const latency = Number.isFinite(s.load.p50Ms) ? `  p50 ${s.load.p50Ms.toFixed(3)} ms  p99 ${s.load.p99Ms.toFixed(3)} ms` : '';
  return `  ${shape} run ${run}/${runs}  ${c.label.padEnd(18)} ${s.load.rps.toFixed(0).padStart(6)} req/s${latency}${proxy}${errors}${note}`;
}

export async function benchDataPlane(log: (line: string) => void): Promise<void> {
  const settings = readSettings();
  const { tools, missing } = findTools();
  log(`data plane: ${settings.configs.map((c) => c.name).join(', ')}; ${settings.runs} interleaved runs of ${settings.seconds} s (+${WARMUP_SECONDS} s warm-up) per shape`);
  for (const m of missing) log(`  missing ${m.what}: skips ${m.skips}`);
  if (missing.length > 0) log(`  to install: apt-get install -y ${missing.map((m) => m.aptPackage).join(' ')}`);
  if (tools.nginx === undefined) {
    log('  data plane skipped: the upstream is nginx');
    return;
  }
  if (!canPin()) log('  taskset not found (util-linux): processes run unpinned, figures will be noisier');

  const idle = startMeasurement([]);
  await sleep(IDLE_CHECK_MS);
  const busy = idle.finish();
  if (busy.core0Pct > BUSY_PCT || busy.core1Pct > BUSY_PCT) {
    log(`  ! before starting, other processes kept core 0 ${busy.core0Pct.toFixed(0)}% and core 1 ${busy.core1Pct.toFixed(0)}% busy: figures will be unreliable (see the core % columns)`);
  }

  const dir = makeTempDir('isthmus-bench-dp-');
  const started: Started[] = [];
  let upstream: Peer | undefined;
  let stopH2Upstream: () => Promise<void> = async () => undefined;
  try {
    const [upstreamPort, h2UpstreamPort, ...ports] = await freePorts(settings.configs.length + 2);
    if (upstreamPort === undefined || h2UpstreamPort === undefined) throw new Error('no free port');
    upstream = await startNginx(tools.nginx, join(dir, 'upstream'), upstreamPort, { kind: 'upstream' }, LOAD_CORE);
    log(`  upstream: nginx on 127.0.0.1:${upstreamPort} (core ${LOAD_CORE}); proxies on core ${PROXY_CORE}; starting ${settings.configs.filter((c) => c.layer !== 'direct').length} proxies`);
    const up = { port: upstreamPort };
    const noDist = settings.configs.some((c) => c.name.startsWith('isthmus')) ? await ensureDist(log) : undefined;
    // One certificate for every TLS configuration, made when the first one starts.
    let benchCert: BenchCert | undefined;
    const cert = (): BenchCert => (benchCert ??= makeBenchCert(dir));
    // One nginx answering h2c on the load core for the h2h2 configurations (and their baseline), started by the first.
    let h2Up: Promise<{ port: number; peer: Peer }> | undefined;
    const h2Upstream = async (): Promise<number> => {
      h2Up ??= startNginx(tools.nginx as string, join(dir, 'upstream-h2'), h2UpstreamPort, { kind: 'upstream-h2' }, LOAD_CORE).then((peer) => ({ port: h2UpstreamPort, peer }));
      return (await h2Up).port;
    };
    stopH2Upstream = async () => (h2Up !== undefined ? (await h2Up.catch(() => undefined))?.peer.stop() : undefined);
    started.push(...(await Promise.all(settings.configs.map((c, i) => startConfig(c, tools, dir, ports[i] ?? 0, up, noDist, cert, h2Upstream)))));
    settings.configs.forEach((c, i) => {
      const s = started[i];
      if (s?.kind === 'up' && c.layer !== 'direct') log(`    ${c.label}: ready on 127.0.0.1:${s.port}`);
      if (s?.kind === 'unavailable') log(`    ${c.label}: unavailable: ${s.reason.replaceAll('\n', '\n      ')}`);
    });

    const tables = new Map<string, Row[]>();
    for (const shape of settings.shapes) {
      if (shape.kind === 'wrk' && tools.wrk === undefined) {
        log(`  ${shape.name}: skipped (wrk is not installed)`);
        continue;
      }
      if (shape.kind === 'h2load' && tools.h2load === undefined) {
        log(`  ${shape.name}: skipped (h2load is not installed: apt-get install -y nghttp2-client)`);
        continue;
      }
      const samples = settings.configs.map((): RunSample[] => []);
      const failed = settings.configs.map((): string | undefined => undefined);
      for (let run = 1; run <= settings.runs; run++) {
        for (const [i, c] of settings.configs.entries()) {
          const s = started[i];
          if (s === undefined || s.kind !== 'up' || failed[i] !== undefined || !runsIn(c, shape)) continue;
          try {
            const adminUrl = s.adminUrl;
            let midRun: Promise<string> | undefined;
            const snap = adminUrl === undefined ? undefined : setTimeout(() => (midRun = adminSnapshot(adminUrl)), (WARMUP_SECONDS + settings.seconds / 2) * 1000);
            const sample = await measureOnce(shape, s, settings.seconds, tools).finally(() => clearTimeout(snap));
            samples[i]?.push(sample);
            log(progress(shape.name, run, settings.runs, c, sample));
            if (adminUrl !== undefined && looksStalled(sample.load, shape.kind === 'rate' ? shape.rate : undefined)) {
              const file = writeStallReport(stallReportDir(), `${shape.name}-${c.name}-run${run}`, {
                what: `${c.label}, ${shape.name} run ${run}/${settings.runs}: ${sample.load.rps.toFixed(0)} req/s`,
                load: sample.load,
                midRun: await midRun,
                afterRun: await adminSnapshot(adminUrl),
              });
              log(`    ! ${c.label} looks stalled: its admin's /clusters and /stats are in ${file}`);
            }
          } catch (e) {
            failed[i] = e instanceof Error ? e.message : String(e);
            log(`  ${shape.name} run ${run}/${settings.runs}  ${c.label}: failed: ${failed[i]}`);
          }
        }
      }
      tables.set(
        shape.name,
        settings.configs.flatMap((config, i): Row[] => (runsIn(config, shape) ? [config] : []).map((): Row => {
          const s = started[i];
          const got = samples[i] ?? [];
          if (s?.kind === 'unavailable') return { config, outcome: { kind: 'unavailable', reason: s.reason } };
          if (got.length === 0) return { config, outcome: { kind: 'unavailable', reason: failed[i] ?? 'not measured' } };
          return { config, outcome: { kind: 'measured', stats: summarize(got) } };
        })),
      );
    }

    log('');
    for (const shape of settings.shapes) {
      const rows = tables.get(shape.name);
      if (rows === undefined) continue;
      const lines =
        shape.kind === 'rate'
          ? fixedRateTable(shape.name, shape.detail, rows, settings.runs, settings.seconds)
          : throughputTable(shape.name, shape.detail, rows, settings.runs, settings.seconds, BASELINES[shapeProtocol(shape) ?? 'h1']);
      for (const l of lines) log(l);
      log('');
    }
    for (const l of targetLines(tables.get('h1-c50'), tables.get('h1-1krps'))) log(l);
  } finally {
    for (const s of started) if (s.kind === 'up') await s.stop();
    await stopH2Upstream();
    await upstream?.stop();
    removeTempDir(dir);
  }
}
