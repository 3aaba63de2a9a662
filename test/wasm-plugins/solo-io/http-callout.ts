// http-callout (solo-io SDK): external authorization through proxy_http_call.
// Config (JSON): {"cluster":"auth","path":"/auth","authority":"auth","timeout_ms":1000};
// only "cluster" is required (empty/missing -> config rejected). Root id "http-callout".
// On request headers: calls `cluster` with headers [:method GET, :path <path>, :authority
// <authority|cluster>, x-original-path <request :path>] and no body, then pauses
// (StopIteration). If the call cannot be dispatched: local reply 503 "auth call failed\n".
// On the call's response (delivered to the root context; the SDK sets the effective context
// back to the stream):
//   - no headers (failed call / timeout)       -> local reply 503, body "auth unavailable\n",
//                                                 details "wasm_auth_unavailable"
//   - :status 200                              -> copies callout header `x-auth-user` (if any)
//                                                 into the request, then proxy_continue_stream
//   - any other status                         -> local reply 403, body "denied by auth\n",
//                                                 header x-wasm-auth-status: <status>
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, FilterHeadersStatusValues, stream_context, send_local_response,
  HeaderPair, GrpcStatusValues, WasmResultValues, log, LogLevelValues,
} from "@solo-io/proxy-runtime/runtime";
import { ConfiguredRoot, registerBoth } from "./lib/configured-root";
import { isJsonObject, jsonString, jsonInt } from "../common/json";

function pair(k: string, v: string): HeaderPair {
  return new HeaderPair(String.UTF8.encode(k), String.UTF8.encode(v));
}

class CalloutRoot extends ConfiguredRoot {
  cluster: string = "";
  path: string = "/auth";
  authority: string = "";
  timeoutMs: u32 = 1000;
  configure(config: string): bool {
    if (!isJsonObject(config)) return false;
    this.cluster = jsonString(config, "cluster", "");
    this.path = jsonString(config, "path", "/auth");
    this.authority = jsonString(config, "authority", this.cluster);
    this.timeoutMs = <u32>jsonInt(config, "timeout_ms", 1000);
    return this.cluster.length > 0;
  }
  createContext(context_id: u32): Context {
    return new Callout(context_id, this);
  }
}

function onAuthResponse(origin: Context, headers: u32, body_size: usize, trailers: u32): void {
  if (headers == 0) {
    send_local_response(503, "wasm_auth_unavailable", String.UTF8.encode("auth unavailable\n"), [], GrpcStatusValues.InvalidCode);
    return;
  }
  const status = stream_context.headers.http_callback.get(":status");
  if (status == "200") {
    const user = stream_context.headers.http_callback.get("x-auth-user");
    if (user.length > 0) stream_context.headers.request.replace("x-auth-user", user);
    origin.continueRequest();
    return;
  }
  send_local_response(403, "wasm_auth_denied", String.UTF8.encode("denied by auth\n"), [pair("x-wasm-auth-status", status)], GrpcStatusValues.InvalidCode);
}

class Callout extends Context {
  constructor(context_id: u32, root: CalloutRoot) {
    super(context_id, root);
  }
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as CalloutRoot;
    const callHeaders: HeaderPair[] = [
      pair(":method", "GET"),
      pair(":path", root.path),
      pair(":authority", root.authority),
      pair("x-original-path", stream_context.headers.request.get(":path")),
    ];
    const result = root.httpCall(root.cluster, callHeaders, new ArrayBuffer(0), [], root.timeoutMs, this, onAuthResponse);
    if (result != WasmResultValues.Ok) {
      log(LogLevelValues.warn, "http-callout: dispatch failed with status " + result.toString());
      send_local_response(503, "wasm_auth_dispatch_failed", String.UTF8.encode("auth call failed\n"), [], GrpcStatusValues.InvalidCode);
    }
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerBoth((context_id: u32): RootContext => new CalloutRoot(context_id), "http-callout");
