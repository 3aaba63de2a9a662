// Open-loop load at a fixed rate (1,000 req/s): requests leave on a schedule whether or not earlier ones
// were answered, which is how latency at a given traffic level is measured (wrk only does closed
// loops). Keep-alive connections through a node:http Agent; each latency is timed with the high-res
// clock from just before the request is built to the end of its body, so the client's own cost is the
// same for every configuration and cancels out of "added". Runs as its own process, pinned to the load
// core: `node --import tsx bench/data-plane/load.ts <port> <rate> <seconds> <warmup-seconds>` prints
// `measuring` when the warm-up ends and `result <json>` at the end.

import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnChild } from './processes.js';

/** What one load run measured (from wrk or from this generator). */
export interface LoadResult {
  /** Requests completed in the measured window. */
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  /** Non-2xx answers plus failed or timed-out requests. */
  readonly errors: number;
}

export interface OpenLoopResult extends LoadResult {
  /** The latest any request left after its scheduled time: large means the generator fell behind. */
  readonly maxLagMs: number;
}

export interface OpenLoopOptions {
  readonly port: number;
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly onMeasuring?: () => void;
}

const MAX_SOCKETS = 256;
const REQUEST_TIMEOUT_MS = 5_000;
const DRAIN_MS = 5_000;
const THIS_FILE = fileURLToPath(import.meta.url);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Sends GET / to 127.0.0.1:port at `rate` per second: a warm-up, then the measured window. */
export function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const latencies: number[] = [];
  let errors = 0;
  let inFlight = 0;
  let maxLag = 0;

  const fire = (record: boolean): void => {
    inFlight++;
    let settled = false;
    const t0 = performance.now();
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      inFlight--;
      if (!record) return;
      if (ok) latencies.push(performance.now() - t0);
      else errors++;
    };
    const req = request({ host: '127.0.0.1', port: o.port, path: '/', agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode === 200));
      res.on('error', () => done(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => done(false));
    req.end();
  };

  return new Promise((resolve) => {
    const interval = 1000 / o.rate;
    const start = performance.now();
    const measureFrom = start + o.warmupSeconds * 1000;
    const end = measureFrom + o.seconds * 1000;
    let next = start;
    let measuring = false;
    const finish = (): void => {
      agent.destroy();
      const sorted = latencies.sort((a, b) => a - b);
      resolve({
        requests: sorted.length,
        rps: sorted.length / o.seconds,
        p50Ms: percentile(sorted, 0.5),
        p90Ms: percentile(sorted, 0.9),
        p99Ms: percentile(sorted, 0.99),
        errors,
        maxLagMs: maxLag,
      });
    };
    const drain = (deadline: number): void => {
      if (inFlight === 0 || performance.now() > deadline) finish();
      else setTimeout(() => drain(deadline), 5);
    };
    const tick = (): void => {
      const now = performance.now();
      while (next <= now && next < end) {
        const record = next >= measureFrom;
        if (record && !measuring) {
          measuring = true;
          o.onMeasuring?.();
        }
        if (record) maxLag = Math.max(maxLag, now - next);
        fire(record);
        next += interval;
      }
      if (next >= end) drain(performance.now() + DRAIN_MS);
      else setTimeout(tick, Math.max(0, next - performance.now()));
    };
    tick();
  });
}

/** The result as it crosses the pipe: JSON turns a NaN percentile (nothing answered) into null. */
type WireResult = { readonly [K in keyof OpenLoopResult]: number | null };
const WIRE_KEYS = ['requests', 'rps', 'p50Ms', 'p90Ms', 'p99Ms', 'errors', 'maxLagMs'] as const;

function isWireResult(v: unknown): v is WireResult {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return WIRE_KEYS.every((k) => typeof r[k] === 'number' || r[k] === null);
}

export interface RunOpenLoopOptions extends OpenLoopOptions {
  /** Pin the generator to this core. */
  readonly core?: number;
}

/** Runs the generator in its own process (so it can sit on the load core) and returns what it measured. */
export async function runOpenLoop(o: RunOpenLoopOptions): Promise<OpenLoopResult> {
  let result: unknown;
  const argv = [process.execPath, '--import', 'tsx', THIS_FILE, String(o.port), String(o.rate), String(o.seconds), String(o.warmupSeconds)];
  const child = await spawnChild('load generator', argv, {
    cwd: REPO_ROOT,
    ...(o.core !== undefined ? { core: o.core } : {}),
    onLine: (line) => {
      if (line === 'measuring') o.onMeasuring?.();
      else if (line.startsWith('result ')) result = JSON.parse(line.slice('result '.length));
    },
  });
  const how = await child.exited;
  if (how !== 'exit code 0' || !isWireResult(result)) throw new Error(`load generator: ${how}\n${child.tail()}`);
  const r = result;
  const num = (x: number | null): number => x ?? Number.NaN;
  return {
    requests: num(r.requests),
    rps: num(r.rps),
    p50Ms: num(r.p50Ms),
    p90Ms: num(r.p90Ms),
    p99Ms: num(r.p99Ms),
    errors: num(r.errors),
    maxLagMs: num(r.maxLagMs),
  };
}

async function main(args: readonly string[]): Promise<void> {
  const [port, rate, seconds, warmupSeconds] = args.map(Number);
  if ([port, rate, seconds, warmupSeconds].some((n) => n === undefined || !Number.isFinite(n) || n < 0)) {
    throw new Error('usage: load.ts <port> <rate> <seconds> <warmup-seconds>');
  }
  const r = await openLoop({
    port: port as number,
    rate: rate as number,
    seconds: seconds as number,
    warmupSeconds: warmupSeconds as number,
    onMeasuring: () => process.stdout.write('measuring\n'),
  });
  process.stdout.write(`result ${JSON.stringify(r)}\n`);
}

const entry = process.argv[1];
if (entry !== undefined && pathToFileURL(entry).href === import.meta.url) await main(process.argv.slice(2));
