// The interfaces through which the proxy-wasm host talks to the proxy. The host is HTTP-agnostic: the
// proxy's HTTP filter and network filter (and `isthmus wasm run`, with in-memory streams) implement these.
// - WasmPluginEnv: one per plugin (PluginConfig): identity, configuration bytes, logging, time, metrics,
//   stats, node/xds properties, and outbound HTTP/gRPC calls.
// - WasmStreamHost / WasmHttpStreamHost: one per HTTP stream or TCP connection: header maps, buffers,
//   stream properties, and the stream operations (local reply, continue, close).
// Values cross the ABI edge as bytes (Uint8Array); header names are strings (lower-case, as HTTP/2).
// Nothing here may call back into a plugin synchronously: the host defers its own actions (local reply,
// continue, close) until the guest has returned, as Envoy's addAfterVmCallAction does.

import type { Clock } from '../../lib/clock.js';
import type { BufferType, LogLevel, MapType, MetricType, StreamType, WasmResult } from './abi.js';
import type { HeaderPairs } from './pairs.js';

/** A header map (request/response headers or trailers) as the plugin sees it. */
export interface WasmHeaderMap {
  /** Every entry in order (pseudo-headers first); names lower-case. */
  pairs(): HeaderPairs;
  /** The first value of `name` (already lower-cased by the host), or undefined when absent. */
  get(name: string): Uint8Array | undefined;
  /** Mutators answer false when the map is read-only at this point of the stream (-> BAD_ARGUMENT). */
  add(name: string, value: Uint8Array): boolean;
  /** Leaves exactly one `name` entry with `value` (adds it when absent). */
  replace(name: string, value: Uint8Array): boolean;
  /** Removes every `name` entry; removing an absent name succeeds. */
  remove(name: string): boolean;
  /** Replaces the whole map. */
  setPairs(pairs: HeaderPairs): boolean;
}

/** A byte buffer (body so far, TCP data, call response body). */
export interface WasmBuffer {
  readonly length: number;
  /** A copy of bytes [start, end), `end` clamped to length. */
  read(start: number, end: number): Uint8Array;
  /**
   * Replaces bytes [start, start+deleteCount) with `data` (start <= length; deleteCount clamped).
   * False when the buffer is read-only now (-> BAD_ARGUMENT).
   */
  splice(start: number, deleteCount: number, data: Uint8Array): boolean;
}

/** A local reply the plugin asked for (proxy_send_local_response). */
export interface WasmLocalReply {
  readonly status: number;
  /** Envoy's response code details (e.g. `wasm_deny`); empty when the plugin gave none. */
  readonly details: string;
  readonly body: Uint8Array;
  readonly headers: HeaderPairs;
  /** gRPC status for gRPC requests; undefined when the plugin passed -1 (none). */
  readonly grpcStatus: number | undefined;
}

/** What a stream (HTTP stream or TCP connection) offers the plugin. */
export interface WasmStreamHost {
  /** HTTP header maps (types 0-3); undefined when not available now (-> BAD_ARGUMENT). */
  getMap(type: MapType): WasmHeaderMap | undefined;
  /** Stream buffers (types 0-3); undefined when not available now (-> NOT_FOUND). */
  getBuffer(type: BufferType): WasmBuffer | undefined;
  /**
   * Stream properties by path segments, e.g. ['request','path'], ['request','headers','x-id'],
   * ['source','address'], ['connection','mtls'], ['response','code'], ['upstream','address'].
   * Strings as UTF-8 bytes; ints as 8-byte little-endian; bools as one byte (Envoy's encodings).
   * Undefined -> the plugin env is asked next (node.*, xds.*), then NOT_FOUND.
   */
  getProperty(path: readonly string[]): Uint8Array | undefined;
  /** Writes filter state (proxy_set_property); OK or NOT_FOUND. */
  setProperty(path: readonly string[], value: Uint8Array): WasmResult;
  /** Resumes a paused direction. Called after the guest returned. OK, BAD_ARGUMENT or UNIMPLEMENTED. */
  continueStream(type: StreamType): WasmResult;
  /** Closes/resets the stream in one direction. Called after the guest returned. OK or BAD_ARGUMENT. */
  closeStream(type: StreamType): WasmResult;
}

/** An HTTP stream: adds the local reply. */
export interface WasmHttpStreamHost extends WasmStreamHost {
  /**
   * Sends a local reply instead of the upstream response. Called after the guest returned, so the proxy
   * may run response callbacks synchronously. OK, or BAD_ARGUMENT when response headers were already sent.
   */
  sendLocalResponse(reply: WasmLocalReply): WasmResult;
  /** ABI 0.1.0 proxy_clear_route_cache. */
  clearRouteCache?(): void;
}

/** Where plugin log lines go (proxy_log and WASI stdout/stderr), already tagged with the plugin by the sink. */
export interface WasmLogSink {
  /** The level below which the host drops plugin logs; also answers proxy_get_log_level. */
  level(): LogLevel;
  log(level: LogLevel, message: string): void;
}

/** One plugin-defined metric, exported with the proxy's stats. Values are u64/i64 at the ABI. */
export interface WasmMetric {
  record(value: bigint): void;
  increment(delta: bigint): void;
  get(): bigint;
}

/** Creates plugin metrics; the same (type, name) must answer the same metric (VMs reload, stats stay). */
export interface WasmMetricsSink {
  define(type: MetricType, name: string): WasmMetric | undefined;
}

/**
 * Host-side counters about the plugin, full names such as `wasm.<plugin>.failures`,
 * `wasm.<plugin>.failures.trap`, `wasm.<plugin>.vm_created`, `wasm.<plugin>.reloads` (see plugin-vm.ts).
 */
export interface WasmStatsSink {
  increment(name: string, delta?: number): void;
}

/** A received HTTP call response; undefined stands for a failed call (delivered with num_headers 0). */
export interface WasmHttpCallResponse {
  readonly headers: HeaderPairs;
  readonly body: Uint8Array;
  readonly trailers: HeaderPairs;
}

export interface WasmHttpCallRequest {
  /** The cluster name the plugin gave (upstream_name). */
  readonly cluster: string;
  /** Includes :method, :path, :authority as the SDKs send them. */
  readonly headers: HeaderPairs;
  readonly body: Uint8Array;
  readonly trailers: HeaderPairs;
  readonly timeoutMs: number;
}

/** Result of starting a callout: a cancel handle, or the status to return (BAD_ARGUMENT for an unknown cluster). */
export type WasmCallStart =
  | { readonly ok: true; cancel(): void }
  | { readonly ok: false; readonly status: WasmResult };

export interface WasmGrpcRequest {
  /** upstream_name bytes: a cluster name, or a serialized GrpcService proto (Envoy accepts both). */
  readonly upstream: Uint8Array;
  readonly service: string;
  readonly method: string;
  readonly initialMetadata: HeaderPairs;
  readonly timeoutMs: number;
}

/** Events of a gRPC call or stream; the host may call them at any time after the start returned. */
export interface WasmGrpcHandlers {
  onInitialMetadata(metadata: HeaderPairs): void;
  onMessage(message: Uint8Array): void;
  onTrailingMetadata(metadata: HeaderPairs): void;
  /** Terminal; `status` is the gRPC status code. */
  onClose(status: number, message: string): void;
}

export type WasmGrpcStreamStart =
  | {
      readonly ok: true;
      send(message: Uint8Array, endStream: boolean): WasmResult;
      /** Half-close from the plugin (proxy_grpc_close). */
      close(): void;
      cancel(): void;
    }
  | { readonly ok: false; readonly status: WasmResult };

/** Everything the host needs from the proxy for one plugin. */
export interface WasmPluginEnv {
  /** PluginConfig.name; used in logs, stats and the `plugin_name` property. */
  readonly name: string;
  /** PluginConfig.root_id (`plugin_root_id`). */
  readonly rootId: string;
  /** VmConfig.vm_id (`plugin_vm_id`); shared data and queues are scoped by it. */
  readonly vmId: string;
  /** VmConfig.configuration bytes (proxy_on_vm_start). */
  readonly vmConfig: Uint8Array;
  /** PluginConfig.configuration bytes, e.g. Istio's pluginConfig as JSON (proxy_on_configure). */
  readonly pluginConfig: Uint8Array;
  /** VmConfig.environment_variables; the only environment WASI environ_get shows. */
  readonly envVars: ReadonlyArray<readonly [string, string]>;
  readonly log: WasmLogSink;
  /** Wall time (WASI REALTIME, proxy_get_current_time_nanoseconds) and tick timers. */
  readonly clock: Clock;
  /** Monotonic nanoseconds (WASI MONOTONIC); defaults to process.hrtime.bigint(). */
  readonly monotonicNs?: () => bigint;
  /** Fills `out` with random bytes (WASI random_get); defaults to crypto.getRandomValues. */
  readonly randomBytes?: (out: Uint8Array) => void;
  readonly metrics: WasmMetricsSink;
  readonly stats: WasmStatsSink;
  /** Plugin-wide properties: node.*, xds.*, cluster_name, listener_direction ...; undefined -> NOT_FOUND. */
  getProperty(path: readonly string[]): Uint8Array | undefined;
  /** Starts an HTTP call; `onResponse` must be called at most once, and never before this returned. */
  httpCall(request: WasmHttpCallRequest, onResponse: (response: WasmHttpCallResponse | undefined) => void): WasmCallStart;
  /** A unary gRPC call (request message given up front). */
  grpcCall(request: WasmGrpcRequest, message: Uint8Array, handlers: WasmGrpcHandlers): WasmCallStart;
  /** A gRPC stream. */
  grpcStream(request: WasmGrpcRequest, handlers: WasmGrpcHandlers): WasmGrpcStreamStart;
}
