// Test support: a recording WasmPluginEnv for the host's unit tests: logs, metrics and stats kept in
// memory, a fake clock with timers, and scripted HTTP/gRPC callouts (the caller answers them later).
// Also a recording HTTP stream host built on the in-memory header lists and buffers.

import { FakeClock } from './xds-server/fake-clock.js';
import { BufferType, LogLevel, MapType, MetricType, StreamType, WasmResult } from '../../src/proxy/wasm/abi.js';
import type {
  WasmBuffer, WasmCallStart, WasmGrpcHandlers, WasmGrpcRequest, WasmGrpcStreamStart, WasmHeaderMap, WasmHttpCallRequest,
  WasmHttpCallResponse, WasmHttpStreamHost, WasmLocalReply, WasmMetric, WasmPluginEnv,
} from '../../src/proxy/wasm/host-types.js';
import { ByteBuffer, HeaderList } from '../../src/proxy/wasm/memory-stream.js';


export interface RecordedCall {
  readonly request: WasmHttpCallRequest;
  respond(response: WasmHttpCallResponse | undefined): void;
  cancelled: boolean;
}

export interface FakeEnvOptions {
  readonly name?: string;
  readonly rootId?: string;
  readonly vmId?: string;
  readonly vmConfig?: string;
  readonly pluginConfig?: string;
  readonly envVars?: ReadonlyArray<readonly [string, string]>;
  readonly clusters?: readonly string[];
  readonly properties?: Readonly<Record<string, string>>;
  readonly logLevel?: LogLevel;
}

export class FakePluginEnv implements WasmPluginEnv {
  readonly name: string;
  readonly rootId: string;
  readonly vmId: string;
  readonly vmConfig: Uint8Array;
  readonly pluginConfig: Uint8Array;
  readonly envVars: ReadonlyArray<readonly [string, string]>;
  readonly clock = new FakeClock(1_700_000_000_000);
  readonly logs: Array<{ level: LogLevel; message: string }> = [];
  readonly stat = new Map<string, number>();
  readonly metricValues = new Map<string, { type: MetricType; value: bigint }>();
  readonly calls: RecordedCall[] = [];
  readonly grpcCalls: Array<{ request: WasmGrpcRequest; message: Uint8Array | undefined; handlers: WasmGrpcHandlers; sent: Uint8Array[] }> = [];
  private readonly clusters: Set<string>;
  private readonly properties: Readonly<Record<string, string>>;
  private readonly minLevel: LogLevel;

  constructor(o: FakeEnvOptions = {}) {
    const enc = new TextEncoder();
    this.name = o.name ?? 'test-plugin';
    this.rootId = o.rootId ?? '';
    this.vmId = o.vmId ?? 'vm-1';
    this.vmConfig = enc.encode(o.vmConfig ?? '');
    this.pluginConfig = enc.encode(o.pluginConfig ?? '');
    this.envVars = o.envVars ?? [];
    this.clusters = new Set(o.clusters ?? ['upstream']);
    this.properties = o.properties ?? {};
    this.minLevel = o.logLevel ?? LogLevel.INFO;
  }

  readonly log = {
    level: (): LogLevel => this.minLevel,
    log: (level: LogLevel, message: string): void => void this.logs.push({ level, message }),
  };

  readonly metrics = {
    define: (type: MetricType, name: string): WasmMetric => {
      const slot = this.metricValues.get(name) ?? { type, value: 0n };
      this.metricValues.set(name, slot);
      return {
        record: (v) => void (slot.value = type === MetricType.HISTOGRAM ? v : v),
        increment: (d) => void (slot.value += d),
        get: () => slot.value,
      };
    },
  };

  readonly stats = {
    increment: (name: string, delta = 1): void => void this.stat.set(name, (this.stat.get(name) ?? 0) + delta),
  };

  messages(): string[] {
    return this.logs.map((l) => l.message);
  }

  getProperty(path: readonly string[]): Uint8Array | undefined {
    const v = this.properties[path.join('.')];
    return v === undefined ? undefined : new TextEncoder().encode(v);
  }

  httpCall(request: WasmHttpCallRequest, onResponse: (r: WasmHttpCallResponse | undefined) => void): WasmCallStart {
    if (!this.clusters.has(request.cluster)) return { ok: false, status: WasmResult.BAD_ARGUMENT };
    const rec: RecordedCall = { request, respond: (r) => onResponse(r), cancelled: false };
    this.calls.push(rec);
    return { ok: true, cancel: () => void (rec.cancelled = true) };
  }

  grpcCall(request: WasmGrpcRequest, message: Uint8Array, handlers: WasmGrpcHandlers): WasmCallStart {
    this.grpcCalls.push({ request, message, handlers, sent: [] });
    return { ok: true, cancel: () => undefined };
  }

  grpcStream(request: WasmGrpcRequest, handlers: WasmGrpcHandlers): WasmGrpcStreamStart {
    const rec = { request, message: undefined, handlers, sent: [] as Uint8Array[] };
    this.grpcCalls.push(rec);
    return { ok: true, send: (m) => (rec.sent.push(m), WasmResult.OK), close: () => undefined, cancel: () => undefined };
  }
}

/** An HTTP stream held in memory, recording what the plugin did to it. */
export class FakeHttpStream implements WasmHttpStreamHost {
  readonly requestHeaders: HeaderList;
  readonly requestTrailers = new HeaderList();
  readonly responseHeaders: HeaderList;
  readonly responseTrailers = new HeaderList();
  readonly requestBody: ByteBuffer;
  readonly responseBody: ByteBuffer;
  readonly localReplies: WasmLocalReply[] = [];
  readonly continued: StreamType[] = [];
  readonly closed: StreamType[] = [];
  readonly filterState = new Map<string, Uint8Array>();
  onLocalReply: ((r: WasmLocalReply) => void) | undefined;

  constructor(request: ReadonlyArray<readonly [string, string]> = [[':method', 'GET'], [':path', '/']], response: ReadonlyArray<readonly [string, string]> = [[':status', '200']], body = '') {
    this.requestHeaders = HeaderList.of(request);
    this.responseHeaders = HeaderList.of(response);
    this.requestBody = new ByteBuffer(new TextEncoder().encode(body));
    this.responseBody = new ByteBuffer();
  }

  getMap(type: MapType): WasmHeaderMap | undefined {
    switch (type) {
      case MapType.HTTP_REQUEST_HEADERS: return this.requestHeaders;
      case MapType.HTTP_REQUEST_TRAILERS: return this.requestTrailers;
      case MapType.HTTP_RESPONSE_HEADERS: return this.responseHeaders;
      case MapType.HTTP_RESPONSE_TRAILERS: return this.responseTrailers;
      default: return undefined;
    }
  }

  getBuffer(type: BufferType): WasmBuffer | undefined {
    if (type === BufferType.HTTP_REQUEST_BODY) return this.requestBody;
    if (type === BufferType.HTTP_RESPONSE_BODY) return this.responseBody;
    return undefined;
  }

  getProperty(path: readonly string[]): Uint8Array | undefined {
    const key = path.join('.');
    if (key === 'request.path') return this.requestHeaders.get(':path');
    if (path[0] === 'request' && path[1] === 'headers' && path[2] !== undefined) return this.requestHeaders.get(path[2]);
    return this.filterState.get(key);
  }

  setProperty(path: readonly string[], value: Uint8Array): WasmResult {
    this.filterState.set(path.join('.'), value);
    return WasmResult.OK;
  }

  sendLocalResponse(reply: WasmLocalReply): WasmResult {
    this.localReplies.push(reply);
    this.onLocalReply?.(reply);
    return WasmResult.OK;
  }

  continueStream(type: StreamType): WasmResult {
    this.continued.push(type);
    return WasmResult.OK;
  }

  closeStream(type: StreamType): WasmResult {
    this.closed.push(type);
    return WasmResult.OK;
  }
}
