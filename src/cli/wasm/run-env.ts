// The plugin's world for `isthmus wasm run` (the host's WasmPluginEnv): the plugin's identity and
// configuration, wall time, and records of what it did — every log line with its level, every metric it
// defined with its value, every HTTP call with how it ended — for the report. HTTP calls go for real, with
// undici, to the servers named by `--cluster <name>=<url>`: the plugin's :path on that origin, its
// :authority as the Host header, its headers and body, bounded by the plugin's own timeout. gRPC is not
// offered (INTERNAL_FAILURE, as the proxy answers). Tick timers are never run: the clock accepts them and
// never fires; the runner reports the period the plugin set.
// Call-header handling mirrors src/proxy/filters/wasm/plugin-env.ts (its helpers are module-private).

import { callHead, responsePairs } from '../../proxy/wasm/call-head.js';
import { request as undiciRequest } from 'undici';
import type { Clock } from '../../lib/clock.js';
import { LogLevel, MetricType, WasmResult } from '../../proxy/wasm/abi.js';
import type { WasmCallStart, WasmHttpCallRequest, WasmHttpCallResponse, WasmMetric, WasmPluginEnv } from '../../proxy/wasm/host-types.js';

export type RunLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical';
export type RunMetricType = 'counter' | 'gauge' | 'histogram';

export interface RunLog {
  readonly level: RunLogLevel;
  readonly message: string;
}

export interface RunMetric {
  readonly name: string;
  readonly type: RunMetricType;
  /** Counter and gauge: the value now. Histogram: the number of values recorded. */
  value: number;
  /** Histogram only: the recorded values in order. */
  readonly values?: number[];
}

export interface RunHttpCall {
  readonly cluster: string;
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  /** The upstream's status once it answered. */
  status?: number;
  /** Why the call failed (unknown cluster, connection error, timeout, cancelled). */
  failure?: string;
}

export interface RunEnvOptions {
  readonly name: string;
  readonly rootId: string;
  readonly pluginConfig: Uint8Array;
  readonly envVars: ReadonlyArray<readonly [string, string]>;
  /** Cluster name -> base URL of a real HTTP server. */
  readonly clusters: ReadonlyMap<string, URL>;
  /** Used when the plugin gives an HTTP call no timeout. */
  readonly defaultCallTimeoutMs: number;
  /** Lines below this level are dropped; also what proxy_get_log_level answers (SDKs filter with it). */
  readonly logLevel: LogLevel;
}

/** The env plus what it recorded. */
export interface RunEnv {
  readonly env: WasmPluginEnv;
  readonly logs: RunLog[];
  readonly metrics: RunMetric[];
  readonly calls: RunHttpCall[];
  /** Calls started and not yet answered. */
  pendingCalls(): number;
  /** Resolves when no call is pending (immediately if none). */
  whenCallsSettle(): Promise<void>;
}

/** Index = the ABI's LogLevel. */
export const RUN_LOG_LEVELS: readonly RunLogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];
const LEVELS = RUN_LOG_LEVELS;
const METRIC_TYPES: Readonly<Record<number, RunMetricType>> = { [MetricType.COUNTER]: 'counter', [MetricType.GAUGE]: 'gauge', [MetricType.HISTOGRAM]: 'histogram' };

/** Wall time; timers are accepted and never fire (`wasm run` does not run ticks). */
const RUN_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: () => ({ cancel: () => undefined }),
};

function targetUrl(base: URL, path: string): URL {
  const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
  return new URL(prefix + (path.startsWith('/') ? path : `/${path}`), base.origin);
}

function metricOf(out: RunMetric[], type: MetricType, name: string): WasmMetric | undefined {
  const t = METRIC_TYPES[type];
  if (t === undefined) return undefined;
  let m = out.find((x) => x.name === name && x.type === t);
  if (m === undefined) {
    m = t === 'histogram' ? { name, type: t, value: 0, values: [] } : { name, type: t, value: 0 };
    out.push(m);
  }
  const slot = m;
  return {
    record: (v) => {
      if (slot.values !== undefined) {
        slot.values.push(Number(v));
        slot.value = slot.values.length;
      } else slot.value = Number(v);
    },
    increment: (d) => {
      if (slot.values === undefined) slot.value += Number(d);
    },
    get: () => (slot.values === undefined ? BigInt(slot.value) : 0n),
  };
}

export function createRunEnv(o: RunEnvOptions): RunEnv {
  const logs: RunLog[] = [];
  const metrics: RunMetric[] = [];
  const calls: RunHttpCall[] = [];
  let pending = 0;
  let settled: Array<() => void> = [];
  const settle = (): void => {
    pending--;
    if (pending > 0) return;
    const waiting = settled;
    settled = [];
    for (const w of waiting) w();
  };

  const httpCall = (req: WasmHttpCallRequest, onResponse: (r: WasmHttpCallResponse | undefined) => void): WasmCallStart => {
    const head = callHead(req.headers);
    const rec: RunHttpCall = { cluster: req.cluster, method: head.method, path: head.path, authority: head.authority };
    calls.push(rec);
    const base = o.clusters.get(req.cluster);
    if (base === undefined) {
      rec.failure = `unknown cluster "${req.cluster}" (give it with --cluster ${req.cluster}=<url>)`;
      return { ok: false, status: WasmResult.BAD_ARGUMENT };
    }
    if (!head.ok) {
      rec.failure = `the call has no ${head.missing} header`;
      return { ok: false, status: WasmResult.BAD_ARGUMENT };
    }
    const timeoutMs = req.timeoutMs > 0 ? req.timeoutMs : o.defaultCallTimeoutMs;
    const abort = new AbortController();
    let done = false;
    const finish = (r: WasmHttpCallResponse | undefined, failure?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (failure !== undefined) rec.failure = failure;
      onResponse(r);
      settle();
    };
    const timer = setTimeout(() => {
      finish(undefined, `no answer within ${timeoutMs} ms`);
      abort.abort();
    }, timeoutMs);
    pending++;
    const url = targetUrl(base, head.path);
    const headers: Record<string, string | string[]> = { ...head.headers, host: head.authority };
    void (async () => {
      try {
        const res = await undiciRequest(url, {
          method: head.method as 'GET',
          headers,
          ...(req.body.length > 0 ? { body: Buffer.from(req.body) } : {}),
          signal: abort.signal,
        });
        const body = new Uint8Array(await res.body.arrayBuffer());
        rec.status = res.statusCode;
        finish({ headers: responsePairs(res.statusCode, res.headers), body, trailers: [] });
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        const code = (err as { code?: unknown }).code;
        const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
        const prefix = typeof code === 'string' && !err.message.includes(code) ? `${code} ` : '';
        finish(undefined, `${prefix}${err.message}${cause}`);
      }
    })();
    return {
      ok: true,
      cancel: () => {
        if (done) return;
        if (rec.status === undefined && rec.failure === undefined) rec.failure = 'cancelled by the host (the stream ended)';
        done = true;
        clearTimeout(timer);
        abort.abort();
        settle();
      },
    };
  };

  const env: WasmPluginEnv = {
    name: o.name,
    rootId: o.rootId,
    vmId: o.name,
    vmConfig: new Uint8Array(0),
    pluginConfig: o.pluginConfig,
    envVars: o.envVars,
    log: {
      level: () => o.logLevel,
      log: (level, message) => {
        if (level >= o.logLevel) logs.push({ level: LEVELS[level] ?? 'critical', message });
      },
    },
    clock: RUN_CLOCK,
    metrics: { define: (type, name) => metricOf(metrics, type, name) },
    stats: { increment: () => undefined },
    getProperty: () => undefined,
    httpCall,
    grpcCall: () => {
      logs.push({ level: 'warn', message: `wasm plugin ${o.name}: gRPC calls are not supported by wasm run` });
      return { ok: false, status: WasmResult.INTERNAL_FAILURE };
    },
    grpcStream: () => {
      logs.push({ level: 'warn', message: `wasm plugin ${o.name}: gRPC streams are not supported by wasm run` });
      return { ok: false, status: WasmResult.INTERNAL_FAILURE };
    },
  };

  return {
    env,
    logs,
    metrics,
    calls,
    pendingCalls: () => pending,
    whenCallsSettle: () => (pending === 0 ? Promise.resolve() : new Promise<void>((r) => settled.push(r))),
  };
}
