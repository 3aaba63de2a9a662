// body-rewrite (gcore SDK): buffers a whole body and replaces a word in it.
// Config (JSON): {"from":"world","to":"wasm","request":false,"response":true}
// ("from" required; "request"/"response" choose the directions, defaults false/true).
// Any root id.
// Headers phase (enabled direction): removes `content-length` (the length changes).
// Body phase: returns StopIterationAndBuffer until end_of_stream, then reads the whole
// buffered body, replaces every `from` with `to`, and writes it back with
// proxy_set_buffer_bytes(start 0, size <whole body>) before returning Continue.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, FilterDataStatusValues, stream_context,
  get_buffer_bytes, set_buffer_bytes, BufferTypeValues,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";
import { ConfiguredRoot } from "./lib/configured-root";
import { isJsonObject, jsonString, jsonBool } from "../common/json";

class RewriteRoot extends ConfiguredRoot {
  from: string = "";
  to: string = "";
  request: bool = false;
  response: bool = true;
  configure(config: string): bool {
    if (!isJsonObject(config)) return false;
    this.from = jsonString(config, "from", "");
    this.to = jsonString(config, "to", "");
    this.request = jsonBool(config, "request", false);
    this.response = jsonBool(config, "response", true);
    return this.from.length > 0;
  }
  createContext(context_id: u32): Context {
    return new Rewrite(context_id, this);
  }
}

function rewrite(root: RewriteRoot, buffer: BufferTypeValues, size: usize): void {
  const body = String.UTF8.decode(get_buffer_bytes(buffer, 0, <u32>size));
  const replaced = body.replaceAll(root.from, root.to);
  if (replaced != body) set_buffer_bytes(buffer, 0, <u32>size, String.UTF8.encode(replaced));
}

class Rewrite extends Context {
  constructor(context_id: u32, root: RewriteRoot) {
    super(context_id, root);
  }
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    if ((this.root_context as RewriteRoot).request) stream_context.headers.request.remove("content-length");
    return FilterHeadersStatusValues.Continue;
  }
  onRequestBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    const root = this.root_context as RewriteRoot;
    if (!root.request) return FilterDataStatusValues.Continue;
    if (!end_of_stream) return FilterDataStatusValues.StopIterationAndBuffer;
    rewrite(root, BufferTypeValues.HttpRequestBody, body_buffer_length);
    return FilterDataStatusValues.Continue;
  }
  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    if ((this.root_context as RewriteRoot).response) stream_context.headers.response.remove("content-length");
    return FilterHeadersStatusValues.Continue;
  }
  onResponseBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    const root = this.root_context as RewriteRoot;
    if (!root.response) return FilterDataStatusValues.Continue;
    if (!end_of_stream) return FilterDataStatusValues.StopIterationAndBuffer;
    rewrite(root, BufferTypeValues.HttpResponseBody, body_buffer_length);
    return FilterDataStatusValues.Continue;
  }
}

registerRootContext((context_id: u32): RootContext => new RewriteRoot(context_id), "body-rewrite");
