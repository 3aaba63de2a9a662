// response-callout (gcore SDK): decorates the upstream's response with the answer of an HTTP callout made
// while the response head is held (a pause in proxy_on_response_headers).
// Config (JSON): {"cluster":"tags","path":"/tag","authority":"tags","header":"x-callout","timeout_ms":1000};
// only "cluster" is required (empty/missing -> config rejected). Any root id.
// On response headers: calls `cluster` with headers [:method GET, :path <path>, :authority
// <authority|cluster>, x-upstream-status <the response's :status>] and no body, then pauses
// (StopIteration). If the call cannot be dispatched: local reply 502 "callout failed\n".
// On the call's response (delivered to the root context; the SDK sets the effective context back to
// the stream):
//   - :status 200 -> adds response header `header` with the callout body (its first 64 bytes, UTF-8),
//                    then continue_response() (proxy_continue_stream(HTTP_RESPONSE))
//   - no headers (failed call / timeout) or any other status -> local reply 502, body "callout failed\n",
//                    details "wasm_callout_failed", header x-wasm-callout-status: <status or "none">
// The response body is left alone (the SDK's onResponseBody continues).
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, BaseContext, registerRootContext, FilterHeadersStatusValues, stream_context, send_local_response,
  HeaderPair, GrpcStatusValues, WasmResultValues, log, LogLevelValues, get_buffer_bytes, BufferTypeValues, continue_response,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";
import { ConfiguredRoot } from "./lib/configured-root";
import { isJsonObject, jsonString, jsonInt } from "../common/json";

const MAX_VALUE: u32 = 64;

function pair(k: string, v: string): HeaderPair {
  return new HeaderPair(String.UTF8.encode(k), String.UTF8.encode(v));
}

function fail(status: string): void {
  send_local_response(502, "wasm_callout_failed", String.UTF8.encode("callout failed\n"), [pair("x-wasm-callout-status", status)], GrpcStatusValues.InvalidCode);
}

class ResponseCalloutRoot extends ConfiguredRoot {
  cluster: string = "";
  path: string = "/tag";
  authority: string = "";
  header: string = "x-callout";
  timeoutMs: u32 = 1000;
  configure(config: string): bool {
    if (!isJsonObject(config)) return false;
    this.cluster = jsonString(config, "cluster", "");
    this.path = jsonString(config, "path", "/tag");
    this.authority = jsonString(config, "authority", this.cluster);
    this.header = jsonString(config, "header", "x-callout");
    this.timeoutMs = <u32>jsonInt(config, "timeout_ms", 1000);
    return this.cluster.length > 0;
  }
  createContext(context_id: u32): Context {
    return new ResponseCallout(context_id, this);
  }
}

function onCalloutResponse(origin: BaseContext, headers: u32, body_size: usize, trailers: u32): void {
  if (headers == 0) {
    fail("none");
    return;
  }
  const status = stream_context.headers.http_callback.get(":status");
  if (status != "200") {
    fail(status);
    return;
  }
  const n = <u32>body_size < MAX_VALUE ? <u32>body_size : MAX_VALUE;
  const value = String.UTF8.decode(get_buffer_bytes(BufferTypeValues.HttpCallResponseBody, 0, n)).trim();
  const root = (origin as ResponseCallout).root_context as ResponseCalloutRoot;
  stream_context.headers.response.add(root.header, value);
  const r = continue_response();
  if (r != WasmResultValues.Ok) log(LogLevelValues.warn, "response-callout: continue_response answered " + r.toString());
}

class ResponseCallout extends Context {
  constructor(context_id: u32, root: ResponseCalloutRoot) {
    super(context_id, root);
  }
  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as ResponseCalloutRoot;
    const callHeaders: HeaderPair[] = [
      pair(":method", "GET"),
      pair(":path", root.path),
      pair(":authority", root.authority),
      pair("x-upstream-status", stream_context.headers.response.get(":status")),
    ];
    const result = root.httpCall(root.cluster, callHeaders, new ArrayBuffer(0), [], root.timeoutMs, this, onCalloutResponse);
    if (result != WasmResultValues.Ok) {
      log(LogLevelValues.warn, "response-callout: dispatch failed with status " + result.toString());
      fail("dispatch");
    }
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerRootContext((context_id: u32): RootContext => new ResponseCalloutRoot(context_id), "response-callout");
