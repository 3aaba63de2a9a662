// grpc-call (gcore SDK): a unary gRPC call to a cluster of the proxy on every request.
// Config (JSON): {"cluster":"outbound|50051||grpc.example","service":"pkg.Svc","method":"Echo",
// "timeout_ms":1000}; "cluster", "service" and "method" are required (else the config is rejected).
// On request headers: proxy_grpc_call(cluster, service, method, metadata [x-wasm-plugin: grpc-call],
// message = the request :path as bytes, timeout_ms) and pause (StopIteration). If the call cannot be
// dispatched: local reply 503 "grpc call failed <wasm result>\n".
// On proxy_on_grpc_receive (success): sets request headers x-grpc-reply: <reply message as text> and
// x-grpc-status: 0, then proxy_continue_stream(HTTP_REQUEST).
// On proxy_on_grpc_close with a non-zero status (for a call not answered yet): local reply 503, body
// "grpc failed <status>\n", details "wasm_grpc_failed", header x-grpc-status: <status>.
// The gcore SDK 1.2.3 has no gRPC wrappers (its proxy_grpc_call import is ABI 0.1's, without metadata),
// so the ABI 0.2.1 import is declared here.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context, send_local_response,
  HeaderPair, GrpcStatusValues, WasmResultValues, BufferTypeValues, get_buffer_bytes, continue_request,
  proxy_set_effective_context, log, LogLevelValues,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";
import { ConfiguredRoot } from "./lib/configured-root";
import { isJsonObject, jsonString, jsonInt } from "../common/json";

@external("env", "proxy_grpc_call")
declare function grpc_call_v2(
  upstream: usize, upstream_size: usize, service: usize, service_size: usize, method: usize, method_size: usize,
  metadata: usize, metadata_size: usize, message: usize, message_size: usize, timeout_ms: u32, token_out: usize,
): u32;

/** proxy-wasm pairs: count, then (key length, value length) per pair, then each key and value NUL-terminated. */
function serializePairs(keys: string[], values: string[]): ArrayBuffer {
  const k = new Array<ArrayBuffer>(keys.length);
  const v = new Array<ArrayBuffer>(keys.length);
  let size = 4 + keys.length * 8;
  for (let i = 0; i < keys.length; i++) {
    k[i] = String.UTF8.encode(keys[i]);
    v[i] = String.UTF8.encode(values[i]);
    size += k[i].byteLength + v[i].byteLength + 2;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, <u32>keys.length);
  let p = base + 4;
  for (let i = 0; i < keys.length; i++) {
    store<u32>(p, <u32>k[i].byteLength);
    store<u32>(p + 4, <u32>v[i].byteLength);
    p += 8;
  }
  for (let i = 0; i < keys.length; i++) {
    memory.copy(p, changetype<usize>(k[i]), k[i].byteLength);
    p += k[i].byteLength;
    store<u8>(p, 0);
    p += 1;
    memory.copy(p, changetype<usize>(v[i]), v[i].byteLength);
    p += v[i].byteLength;
    store<u8>(p, 0);
    p += 1;
  }
  return out;
}

function pair(k: string, v: string): HeaderPair {
  return new HeaderPair(String.UTF8.encode(k), String.UTF8.encode(v));
}

class GrpcRoot extends ConfiguredRoot {
  cluster: string = "";
  service: string = "";
  method: string = "";
  timeoutMs: u32 = 1000;
  /** Call token -> the stream context waiting for it. */
  pending: Map<u32, u32> = new Map();

  configure(config: string): bool {
    if (!isJsonObject(config)) return false;
    this.cluster = jsonString(config, "cluster", "");
    this.service = jsonString(config, "service", "");
    this.method = jsonString(config, "method", "");
    this.timeoutMs = <u32>jsonInt(config, "timeout_ms", 1000);
    return this.cluster.length > 0 && this.service.length > 0 && this.method.length > 0;
  }

  createContext(context_id: u32): Context {
    return new GrpcCaller(context_id, this);
  }

  /** Returns the proxy's status; OK registers `context_id` as waiting for the answer. */
  call(context_id: u32, message: string): u32 {
    const up = String.UTF8.encode(this.cluster);
    const svc = String.UTF8.encode(this.service);
    const m = String.UTF8.encode(this.method);
    const md = serializePairs(["x-wasm-plugin"], ["grpc-call"]);
    const msg = String.UTF8.encode(message);
    const token = new ArrayBuffer(4);
    const r = grpc_call_v2(
      changetype<usize>(up), up.byteLength, changetype<usize>(svc), svc.byteLength, changetype<usize>(m), m.byteLength,
      changetype<usize>(md), md.byteLength, changetype<usize>(msg), msg.byteLength, this.timeoutMs, changetype<usize>(token),
    );
    if (r == WasmResultValues.Ok) this.pending.set(load<u32>(changetype<usize>(token)), context_id);
    return r;
  }

  on_grpc_receive(token: u32, response_size: u32): void {
    if (!this.pending.has(token)) return;
    const ctx = this.pending.get(token);
    this.pending.delete(token);
    const reply = response_size > 0 ? String.UTF8.decode(get_buffer_bytes(BufferTypeValues.GrpcReceiveBuffer, 0, response_size)) : "";
    proxy_set_effective_context(ctx);
    stream_context.headers.request.replace("x-grpc-reply", reply);
    stream_context.headers.request.replace("x-grpc-status", "0");
    continue_request();
  }

  on_grpc_close(token: u32, status_code: u32): void {
    if (!this.pending.has(token)) return;
    const ctx = this.pending.get(token);
    this.pending.delete(token);
    proxy_set_effective_context(ctx);
    if (status_code == 0) {
      // Not expected for a unary call (success arrives as a message), but let the request go on.
      stream_context.headers.request.replace("x-grpc-status", "0");
      continue_request();
      return;
    }
    send_local_response(503, "wasm_grpc_failed", String.UTF8.encode("grpc failed " + status_code.toString() + "\n"),
      [pair("x-grpc-status", status_code.toString())], GrpcStatusValues.InvalidCode);
  }
}

class GrpcCaller extends Context {
  constructor(context_id: u32, root: GrpcRoot) {
    super(context_id, root);
  }
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as GrpcRoot;
    const r = root.call(this.context_id, stream_context.headers.request.get(":path"));
    if (r != WasmResultValues.Ok) {
      log(LogLevelValues.warn, "grpc-call: dispatch failed with status " + r.toString());
      send_local_response(503, "wasm_grpc_dispatch_failed", String.UTF8.encode("grpc call failed " + r.toString() + "\n"), [], GrpcStatusValues.InvalidCode);
    }
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerRootContext((context_id: u32): RootContext => new GrpcRoot(context_id), "grpc-call");
