// grpc-stream (gcore SDK): a bidirectional gRPC stream to a cluster of the proxy on every request.
// Config (JSON): {"cluster":"outbound|50051||chat.example","service":"isthmus.test.Chat","method":"Chat",
// "header":"x-chat"}; "cluster", "service" and "method" are required (else the config is rejected),
// "header" (default "x-chat") names the request header whose value is the second message.
// On request headers: proxy_grpc_stream(cluster, service, method, metadata [x-wasm-plugin: grpc-stream]),
// then proxy_grpc_send(<request :path>, end_stream 0), proxy_grpc_send(<header value, may be empty>,
// end_stream 0), proxy_grpc_close (half-close) and pause (StopIteration). Messages are raw bytes (the test
// service uses an identity codec). If the stream cannot be opened: local reply 503 "grpc stream open
// failed <wasm result>\n"; if a send or the half-close is refused: proxy_grpc_cancel and local reply 503
// "grpc stream send failed <wasm result>\n".
// Callbacks (delivered to the root context, routed by token to the waiting stream context) are recorded
// in order as events: "metadata:<:status>", "message", "trailers:<grpc-status>", "close:<status>"; each
// received message is collected as text.
// On proxy_on_grpc_close with status 0: request headers x-grpc-replies: <replies joined by ", ">,
// x-grpc-stream-events: <events joined by " ">, then proxy_continue_stream(HTTP_REQUEST). Any other
// status: local reply 503, body "grpc stream failed <status>\n", details "wasm_grpc_stream_failed",
// headers x-grpc-status: <status> and x-grpc-stream-events.
// The gcore SDK 1.2.3 has no stream wrappers (its grpc_stream is a stub, its proxy_grpc_stream import is
// ABI 0.1's, without metadata), so the ABI 0.2.1 import is declared here; the SDK's exports route every
// proxy_on_grpc_* callback to the root context (the trailing one under the AS name
// proxy_on_grpc_trailing_metadata).
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context, send_local_response,
  HeaderPair, GrpcStatusValues, WasmResultValues, BufferTypeValues, get_buffer_bytes, continue_request,
  proxy_set_effective_context, log, LogLevelValues,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";
// Not re-exported by the SDK's index: the typed header-map reader (for the gRPC metadata maps).
import { HeaderMapTypeValues, get_header_map_value } from "@gcoredev/proxy-wasm-sdk-as/assembly/runtime";
import { ConfiguredRoot } from "./lib/configured-root";
import { isJsonObject, jsonString } from "../common/json";

@external("env", "proxy_grpc_stream")
declare function grpc_stream_v2(
  upstream: usize, upstream_size: usize, service: usize, service_size: usize, method: usize, method_size: usize,
  metadata: usize, metadata_size: usize, token_out: usize,
): u32;

@external("env", "proxy_grpc_send")
declare function grpc_send(token: u32, message: usize, message_size: usize, end_stream: u32): u32;

@external("env", "proxy_grpc_close")
declare function grpc_close(token: u32): u32;

@external("env", "proxy_grpc_cancel")
declare function grpc_cancel(token: u32): u32;

/** One proxy-wasm pair: count 1, (key length, value length), key NUL, value NUL. */
function serializePair(key: string, value: string): ArrayBuffer {
  const k = String.UTF8.encode(key);
  const v = String.UTF8.encode(value);
  const out = new ArrayBuffer(12 + k.byteLength + v.byteLength + 2);
  const base = changetype<usize>(out);
  store<u32>(base, 1);
  store<u32>(base + 4, <u32>k.byteLength);
  store<u32>(base + 8, <u32>v.byteLength);
  let p = base + 12;
  memory.copy(p, changetype<usize>(k), k.byteLength);
  p += k.byteLength;
  store<u8>(p, 0);
  p += 1;
  memory.copy(p, changetype<usize>(v), v.byteLength);
  p += v.byteLength;
  store<u8>(p, 0);
  return out;
}

function pair(k: string, v: string): HeaderPair {
  return new HeaderPair(String.UTF8.encode(k), String.UTF8.encode(v));
}

function mapValue(map: HeaderMapTypeValues, key: string): string {
  return String.UTF8.decode(get_header_map_value(map, String.UTF8.encode(key)));
}

/** What one request's stream has seen so far. */
class StreamState {
  replies: string[] = [];
  events: string[] = [];
  constructor(public context_id: u32) {}
}

class StreamRoot extends ConfiguredRoot {
  cluster: string = "";
  service: string = "";
  method: string = "";
  header: string = "x-chat";
  /** Stream token -> the request waiting for it. */
  streams: Map<u32, StreamState> = new Map();

  configure(config: string): bool {
    if (!isJsonObject(config)) return false;
    this.cluster = jsonString(config, "cluster", "");
    this.service = jsonString(config, "service", "");
    this.method = jsonString(config, "method", "");
    this.header = jsonString(config, "header", "x-chat");
    return this.cluster.length > 0 && this.service.length > 0 && this.method.length > 0;
  }

  createContext(context_id: u32): Context {
    return new StreamCaller(context_id, this);
  }

  /** Opens the stream and writes both messages; returns "" or the local-reply body of a failure. */
  open(context_id: u32, first: string, second: string): string {
    const up = String.UTF8.encode(this.cluster);
    const svc = String.UTF8.encode(this.service);
    const m = String.UTF8.encode(this.method);
    const md = serializePair("x-wasm-plugin", "grpc-stream");
    const tokenOut = new ArrayBuffer(4);
    const r = grpc_stream_v2(
      changetype<usize>(up), up.byteLength, changetype<usize>(svc), svc.byteLength, changetype<usize>(m), m.byteLength,
      changetype<usize>(md), md.byteLength, changetype<usize>(tokenOut),
    );
    if (r != WasmResultValues.Ok) return "grpc stream open failed " + r.toString() + "\n";
    const token = load<u32>(changetype<usize>(tokenOut));
    this.streams.set(token, new StreamState(context_id));
    let s = this.send(token, first);
    if (s == WasmResultValues.Ok) s = this.send(token, second);
    if (s == WasmResultValues.Ok) s = grpc_close(token);
    if (s == WasmResultValues.Ok) return "";
    this.streams.delete(token);
    grpc_cancel(token);
    return "grpc stream send failed " + s.toString() + "\n";
  }

  send(token: u32, text: string): u32 {
    const msg = String.UTF8.encode(text);
    return grpc_send(token, changetype<usize>(msg), msg.byteLength, 0);
  }

  on_grpc_receive_initial_metadata(token: u32, headers: u32): void {
    if (!this.streams.has(token)) return;
    this.streams.get(token).events.push("metadata:" + mapValue(HeaderMapTypeValues.GrpcReceiveInitialMetadata, ":status"));
  }

  on_grpc_receive(token: u32, response_size: u32): void {
    if (!this.streams.has(token)) return;
    const st = this.streams.get(token);
    st.events.push("message");
    st.replies.push(response_size > 0 ? String.UTF8.decode(get_buffer_bytes(BufferTypeValues.GrpcReceiveBuffer, 0, response_size)) : "");
  }

  on_grpc_trailing_metadata(token: u32, trailers: u32): void {
    if (!this.streams.has(token)) return;
    this.streams.get(token).events.push("trailers:" + mapValue(HeaderMapTypeValues.GrpcReceiveTrailingMetadata, "grpc-status"));
  }

  on_grpc_close(token: u32, status_code: u32): void {
    if (!this.streams.has(token)) return;
    const st = this.streams.get(token);
    this.streams.delete(token);
    st.events.push("close:" + status_code.toString());
    const events = st.events.join(" ");
    proxy_set_effective_context(st.context_id);
    if (status_code == 0) {
      stream_context.headers.request.replace("x-grpc-replies", st.replies.join(", "));
      stream_context.headers.request.replace("x-grpc-stream-events", events);
      continue_request();
      return;
    }
    send_local_response(503, "wasm_grpc_stream_failed", String.UTF8.encode("grpc stream failed " + status_code.toString() + "\n"),
      [pair("x-grpc-status", status_code.toString()), pair("x-grpc-stream-events", events)], GrpcStatusValues.InvalidCode);
  }
}

class StreamCaller extends Context {
  constructor(context_id: u32, root: StreamRoot) {
    super(context_id, root);
  }
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as StreamRoot;
    const failure = root.open(
      this.context_id, stream_context.headers.request.get(":path"), stream_context.headers.request.get(root.header),
    );
    if (failure.length > 0) {
      log(LogLevelValues.warn, "grpc-stream: " + failure);
      send_local_response(503, "wasm_grpc_stream_dispatch_failed", String.UTF8.encode(failure), [], GrpcStatusValues.InvalidCode);
    }
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerRootContext((context_id: u32): RootContext => new StreamRoot(context_id), "grpc-stream");
