// envoy.filters.http.wasm: runs one Wasm plugin on an HTTP stream (Envoy's Context as a stream filter).
// Request headers go to proxy_on_request_headers; a pause holds the filter chain until the plugin continues
// (after an HTTP callout, say) or answers with a local reply. Bodies go through body filters chunk by chunk:
// a pause keeps the data (StopIterationAndBuffer) so the next callback sees all of it, and at the end of
// the stream everything held is passed on. Response heads go to proxy_on_response_headers in the encode
// order (after the router's and later filters' changes). At the end of the stream: done, log, delete.
// Failures follow the plugin's policy: FAIL_OPEN skips the plugin; otherwise the stream fails with
// Envoy's 503 and details `wasm_fail_stream` (source/extensions/common/wasm/context.cc failStream), or a
// reset when the response has started. A module that could not be fetched or started is treated as
// Istio's agent treats it (pkg/wasm/convert.go): FAIL_OPEN allows, anything else denies like an RBAC
// deny-all filter (403 `RBAC: access denied`).
// Response trailers go to proxy_on_response_trailers (when the upstream sent some), as a map the plugin may
// change. A pause at response headers holds the head (still writable) until proxy_continue_stream(HTTP_RESPONSE);
// as in Envoy, where the host turns the pause into StopAllIterationAndWatermark (proxy-wasm-cpp-host
// src/context.cc), the body waits behind it with backpressure and reaches proxy_on_response_body after the
// continue, and a local reply meanwhile replaces the upstream's response. A pause at response trailers holds
// the end of the stream the same way. Not supported: request trailers, which this proxy does not relay
// upstream at all.

import type { HcmEnv } from '../../http/hcm-env.js';
import type { HttpStream } from '../../http/http-stream.js';
import { StreamType, WasmResult } from '../../wasm/abi.js';
import type { WasmBuffer, WasmHeaderMap, WasmHttpStreamHost, WasmLocalReply } from '../../wasm/host-types.js';
import { MapType, BufferType } from '../../wasm/abi.js';
import type { PluginHandle } from '../../wasm/plugin-handle.js';
import type { FilterResult, WasmHttpContext } from '../../wasm/stream-context.js';
import { BodyBuffer } from './body-buffer.js';
import type { WasmFilterConfig } from './config.js';
import { latin1 as text, RequestHeaderMap, ResponseHeaderMap, TrailerMap } from './http-header-map.js';
import { httpStreamProperty } from './stream-properties.js';

type FilterStatus = 'continue' | 'stop';

export const WASM_FAIL_STREAM_DETAILS = 'wasm_fail_stream';


/** One stream as one plugin sees it. */
class HttpStreamHost implements WasmHttpStreamHost {
  readonly requestHeaders: RequestHeaderMap;
  responseHeaders: ResponseHeaderMap | undefined;
  responseTrailers: TrailerMap | undefined;
  readonly requestBody = new BodyBuffer();
  readonly responseBody = new BodyBuffer();
  /** Waiting for the plugin to continue the request (the chain resumes then). */
  requestPaused = false;
  /** The response head or trailers this plugin holds until it continues the response. */
  responsePaused: 'head' | 'trailers' | undefined;
  /** The stream was answered or failed by this plugin: its callbacks stop. */
  done = false;
  readonly filterState = new Map<string, Uint8Array>();

  constructor(
    readonly s: HttpStream,
    private readonly resume: () => void,
  ) {
    this.requestHeaders = new RequestHeaderMap(s);
  }

  getMap(type: MapType): WasmHeaderMap | undefined {
    if (type === MapType.HTTP_REQUEST_HEADERS) return this.requestHeaders;
    if (type === MapType.HTTP_RESPONSE_HEADERS) return this.responseHeaders;
    if (type === MapType.HTTP_RESPONSE_TRAILERS) return this.responseTrailers;
    return undefined;
  }

  getBuffer(type: BufferType): WasmBuffer | undefined {
    if (type === BufferType.HTTP_REQUEST_BODY) return this.requestBody;
    if (type === BufferType.HTTP_RESPONSE_BODY) return this.responseBody;
    return undefined;
  }

  getProperty(path: readonly string[]): Uint8Array | undefined {
    const state = this.filterState.get(path.join('.'));
    return state ?? httpStreamProperty(this.s, path);
  }

  setProperty(path: readonly string[], value: Uint8Array): WasmResult {
    this.filterState.set(path.join('.'), value);
    return WasmResult.OK;
  }

  continueStream(type: StreamType): WasmResult {
    if (type === StreamType.HTTP_REQUEST) {
      if (this.requestPaused && !this.done) {
        this.requestPaused = false;
        this.requestHeaders.writableNow = false;
        this.resume();
      }
      return WasmResult.OK;
    }
    if (type !== StreamType.HTTP_RESPONSE) return WasmResult.BAD_ARGUMENT;
    const paused = this.responsePaused;
    if (paused !== undefined && !this.done) {
      this.responsePaused = undefined;
      const map = paused === 'head' ? this.responseHeaders : this.responseTrailers;
      if (map !== undefined) map.writableNow = false;
      this.s.continueEncoding();
    }
    return WasmResult.OK;
  }

  closeStream(type: StreamType): WasmResult {
    if (type !== StreamType.HTTP_REQUEST && type !== StreamType.HTTP_RESPONSE) return WasmResult.BAD_ARGUMENT;
    this.done = true;
    this.s.resetDownstream('wasm_close_stream');
    return WasmResult.OK;
  }

  sendLocalResponse(r: WasmLocalReply): WasmResult {
    const s = this.s;
    if (s.response.headersSent) return WasmResult.BAD_ARGUMENT;
    this.done = true;
    this.requestPaused = false;
    this.responsePaused = undefined;
    const headers: Record<string, string> = {};
    for (const [k, v] of r.headers) headers[k] = text(v);
    if (r.grpcStatus !== undefined) headers['grpc-status'] = String(r.grpcStatus);
    s.localReply({ status: r.status, body: text(r.body), flag: 0, details: r.details !== '' ? r.details : 'wasm_local_reply', headers });
    return WasmResult.OK;
  }
}

/** The stream fails under a closed policy: 503 before the response started, a reset after. */
function failStream(s: HttpStream): void {
  if (s.response.headersSent) s.resetDownstream(WASM_FAIL_STREAM_DETAILS);
  else s.localReply({ status: 503, body: '', flag: 0, details: WASM_FAIL_STREAM_DETAILS });
}

/** Istio's agent replaces a plugin it could not fetch with an RBAC allow-all or deny-all filter. */
function unavailablePlugin(config: WasmFilterConfig, s: HttpStream): FilterStatus {
  if (config.failurePolicy === 'FAIL_OPEN') return 'continue';
  s.localReply({ status: 403, body: 'RBAC: access denied', flag: 0, details: 'rbac_access_denied_matched_policy[none]' });
  return 'stop';
}

/** Body filter: the plugin sees the data held so far; undefined while it holds on. */
function bodyFilter(host: HttpStreamHost, handle: PluginHandle, buf: BodyBuffer, call: (size: number, end: boolean) => ReturnType<WasmHttpContext['onRequestBody']>) {
  return (chunk: Buffer, end: boolean): Buffer | undefined => {
    if (host.done) return end ? Buffer.concat([buf.take(), chunk]) : chunk;
    buf.append(chunk);
    buf.writableNow = true;
    const r = call(buf.length, end);
    buf.writableNow = false;
    if (r === 'failed') {
      if (handle.failOpen) {
        host.done = true;
        return buf.take();
      }
      host.done = true;
      failStream(host.s);
      buf.take();
      return undefined;
    }
    if (host.done) return undefined; // answered locally from the body callback
    return r === 'continue' || end ? buf.take() : undefined;
  };
}

/**
 * What a response headers/trailers callback's answer means for the stream: a pause holds that part (its map
 * stays writable until the plugin continues); a failure ends the plugin's part in the stream and, failing
 * closed, resets it once the hook has returned.
 */
function afterEncodeCallback(host: HttpStreamHost, handle: PluginHandle, map: { writableNow: boolean }, part: 'head' | 'trailers', rr: FilterResult): 'stop' | undefined {
  if (rr === 'pause' && !host.done) {
    host.responsePaused = part;
    return 'stop';
  }
  map.writableNow = false;
  if (rr === 'failed') {
    host.done = true;
    if (!handle.failOpen) setImmediate(() => host.s.resetDownstream(WASM_FAIL_STREAM_DETAILS));
  }
  return undefined;
}

function startStream(handle: PluginHandle, s: HttpStream, resume: () => void): FilterStatus {
  const host = new HttpStreamHost(s, resume);
  const ctx = handle.httpContext(host);
  if (ctx.kind === 'failed') {
    if (ctx.failOpen) return 'continue';
    failStream(s);
    return 'stop';
  }
  s.onComplete(() => ctx.end());
  const r = ctx.onRequestHeaders(host.requestHeaders.size(), !s.request.hasBody);
  if (r === 'failed') {
    host.done = true;
    if (handle.failOpen) return 'continue';
    failStream(s);
    return 'stop';
  }
  if (host.done) return 'stop'; // a local reply
  if (s.request.hasBody) (s.requestBodyFilters ??= []).push(bodyFilter(host, handle, host.requestBody, (n, e) => ctx.onRequestBody(n, e)));
  (s.responseBodyFilters ??= []).unshift(bodyFilter(host, handle, host.responseBody, (n, e) => ctx.onResponseBody(n, e)));
  s.encodeHooks.push((status, h) => {
    if (host.done) return;
    const map = new ResponseHeaderMap(h, status);
    host.responseHeaders = map;
    return afterEncodeCallback(host, handle, map, 'head', ctx.onResponseHeaders(map.size(), false));
  });
  s.encodeTrailerHooks.push((t) => {
    if (host.done) return;
    const map = new TrailerMap(t);
    host.responseTrailers = map;
    return afterEncodeCallback(host, handle, map, 'trailers', ctx.onResponseTrailers(map.size()));
  });
  if (r === 'pause') {
    host.requestPaused = true;
    return 'stop';
  }
  host.requestHeaders.writableNow = false;
  return 'continue';
}

/** Runs the plugin of filter `config` on stream `s`; 'stop' means it answered, failed, or resumes later. */
export function runWasmFilter(config: WasmFilterConfig, s: HttpStream, env: HcmEnv, resume: () => void): FilterStatus {
  const reg = env.wasm;
  if (reg === undefined) return unavailablePlugin(config, s);
  const entry = reg.entry(config);
  entry.retryIfDue();
  const st = entry.state;
  if (st.kind === 'loading') {
    // The plugin's first requests wait for its module (Envoy warms the listener; here only this plugin's traffic waits).
    let live = true;
    s.onDownstreamReset(() => {
      live = false;
    });
    entry.whenSettled(() => {
      if (live && runWasmFilter(config, s, env, resume) === 'continue') resume();
    });
    return 'stop';
  }
  if (st.kind === 'failed') return unavailablePlugin(config, s);
  return startStream(st.handle, s, resume);
}
