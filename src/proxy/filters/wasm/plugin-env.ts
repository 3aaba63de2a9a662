// The proxy's side of a Wasm plugin (the host's WasmPluginEnv): its identity and configuration, its log
// lines in the proxy's log tagged with the plugin's name, the metrics it defines as proxy stats in Envoy's
// custom namespace (`wasmcustom.<name>` in /stats, the bare name in Prometheus), the host's own counters
// about it (`wasm.<plugin>.failures` ...), node properties from the bootstrap, and HTTP calls to the
// proxy's clusters, and gRPC calls and streams to them (grpc-call.ts).

import type { Clock } from '../../../lib/clock.js';
import type { Logger } from '../../../lib/logger.js';
import type { StatsStore } from '../../stats/stats-store.js';
import type { ClusterHandle } from '../../upstream/cluster-handle.js';
import { callCluster } from '../../upstream/cluster-call.js';
import { WASM_CUSTOM_PREFIX } from '../../stats/prometheus-format.js';
import { LogLevel, MetricType, WasmResult } from '../../wasm/abi.js';
import { callHead, responsePairs } from '../../wasm/call-head.js';
import type { WasmCallStart, WasmGrpcRequest, WasmHttpCallRequest, WasmHttpCallResponse, WasmMetric, WasmPluginEnv } from '../../wasm/host-types.js';
import { resolveGrpcTarget, startGrpcCall, startGrpcStream, type GrpcTarget } from './grpc-call.js';
import type { WasmFilterConfig } from './config.js';

/** The bootstrap's node, for `node.*` properties. */
export interface WasmNodeInfo {
  readonly id: string;
  readonly cluster: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface WasmProxyDeps {
  readonly logger: Logger;
  readonly stats: StatsStore;
  readonly clock: Clock;
  readonly cluster: (name: string) => ClusterHandle | undefined;
  readonly node: WasmNodeInfo;
  /** The proxy's own environment, only for the keys a plugin lists in host_env_keys. */
  readonly hostEnv: (key: string) => string | undefined;
}

const enc = new TextEncoder();

function levelOf(l: Logger): LogLevel {
  switch (l.level) {
    case 'debug':
      return LogLevel.DEBUG;
    case 'info':
      return LogLevel.INFO;
    case 'warn':
      return LogLevel.WARN;
    default:
      return LogLevel.ERROR;
  }
}

function metricOf(deps: WasmProxyDeps, type: MetricType, name: string): WasmMetric | undefined {
  const full = WASM_CUSTOM_PREFIX + name;
  switch (type) {
    case MetricType.COUNTER: {
      const c = deps.stats.counter(full);
      return { record: (v) => void (c.value = Number(v)), increment: (d) => c.add(Number(d)), get: () => BigInt(c.value) };
    }
    case MetricType.GAUGE: {
      const g = deps.stats.gauge(full);
      return { record: (v) => g.set(Number(v)), increment: (d) => g.add(Number(d)), get: () => BigInt(g.value) };
    }
    case MetricType.HISTOGRAM: {
      const h = deps.stats.histogram(full);
      return { record: (v) => h.record(Number(v)), increment: () => undefined, get: () => 0n };
    }
    default:
      return undefined;
  }
}

function nodeProperty(node: WasmNodeInfo, path: readonly string[]): Uint8Array | undefined {
  const [root, key, sub] = path;
  if (root !== 'node') return undefined;
  if (key === 'id') return enc.encode(node.id);
  if (key === 'cluster') return enc.encode(node.cluster);
  if (key === 'metadata' && sub !== undefined) {
    const v = node.metadata[sub];
    return v === undefined ? undefined : enc.encode(v);
  }
  return undefined;
}

function httpCall(deps: WasmProxyDeps, name: string, req: WasmHttpCallRequest, onResponse: (r: WasmHttpCallResponse | undefined) => void): WasmCallStart {
  const cluster = deps.cluster(req.cluster);
  if (cluster === undefined) {
    deps.logger.warn(`wasm plugin ${name}: http call to unknown cluster "${req.cluster}"`);
    return { ok: false, status: WasmResult.BAD_ARGUMENT };
  }
  const head = callHead(req.headers);
  if (!head.ok) return { ok: false, status: WasmResult.BAD_ARGUMENT };
  const cancel = callCluster(cluster, { method: head.method, path: head.path, headers: { ...head.headers, host: head.authority }, body: req.body.length > 0 ? Buffer.from(req.body) : undefined, timeoutMs: req.timeoutMs }, (r) => {
    if (r.kind === 'error') {
      deps.logger.debug(`wasm plugin ${name}: http call to ${req.cluster} failed: ${r.reason}`);
      onResponse(undefined);
    } else onResponse({ headers: responsePairs(r.status, r.headers), body: r.body, trailers: responsePairs(undefined, r.trailers) });
  });
  return { ok: true, cancel };
}

function grpcTarget(deps: WasmProxyDeps, name: string, req: WasmGrpcRequest): GrpcTarget {
  const target = resolveGrpcTarget(req.upstream, deps.cluster);
  if (!target.ok) deps.logger.warn(`wasm plugin ${name}: gRPC call to /${req.service}/${req.method} refused: ${target.reason}`);
  return target;
}

/** The WasmPluginEnv for `config` in this proxy. */
export function createPluginEnv(config: WasmFilterConfig, deps: WasmProxyDeps): WasmPluginEnv {
  const name = config.name;
  const env: [string, string][] = [...config.env];
  for (const k of config.hostEnvKeys) {
    const v = deps.hostEnv(k);
    if (v !== undefined) env.push([k, v]);
  }
  const level = levelOf(deps.logger);
  return {
    name,
    rootId: config.rootId,
    vmId: config.vmId,
    vmConfig: config.vmConfiguration,
    pluginConfig: config.pluginConfiguration,
    envVars: env,
    log: {
      level: () => level,
      log: (l, message) => {
        const line = `wasm log ${name}: ${message}`;
        if (l <= LogLevel.DEBUG) deps.logger.debug(line);
        else if (l === LogLevel.INFO) deps.logger.info(line);
        else if (l === LogLevel.WARN) deps.logger.warn(line);
        else deps.logger.error(line);
      },
    },
    clock: deps.clock,
    metrics: { define: (type, metricName) => metricOf(deps, type, metricName) },
    stats: { increment: (stat, delta = 1) => deps.stats.counter(stat).add(delta) },
    getProperty: (path) => nodeProperty(deps.node, path),
    httpCall: (req, onResponse) => httpCall(deps, name, req, onResponse),
    grpcCall: (req, message, handlers) => {
      const target = grpcTarget(deps, name, req);
      return target.ok ? startGrpcCall(target, req, message, handlers) : target;
    },
    grpcStream: (req, handlers) => {
      const target = grpcTarget(deps, name, req);
      return target.ok ? startGrpcStream(target, req, handlers) : target;
    },
  };
}
