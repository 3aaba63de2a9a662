// add-header (solo-io SDK): header manipulation in both directions.
// Config: plain text (not JSON), used as the header value; empty -> "hello". Root id "add-header".
// Request headers: adds `x-wasm-request: <value>`, removes `x-remove-me`.
// Response headers: adds `x-wasm-response: <value>`, replaces `server` with `isthmus-wasm`
// (proxy_replace_header_map_value; the host adds it when absent, as Envoy does).
// Note: 0.1.8 aborts on any non-OK status from remove/replace, so "key not present" must be OK.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@solo-io/proxy-runtime/proxy";
import { RootContext, Context, FilterHeadersStatusValues, stream_context } from "@solo-io/proxy-runtime/runtime";
import { ConfiguredRoot, registerBoth } from "./lib/configured-root";

class AddHeaderRoot extends ConfiguredRoot {
  value: string = "hello";
  configure(config: string): bool {
    this.value = config.length > 0 ? config : "hello";
    return true;
  }
  createContext(context_id: u32): Context {
    return new AddHeader(context_id, this);
  }
}

class AddHeader extends Context {
  value: string;
  constructor(context_id: u32, root: AddHeaderRoot) {
    super(context_id, root);
    this.value = root.value;
  }
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.request.add("x-wasm-request", this.value);
    stream_context.headers.request.remove("x-remove-me");
    return FilterHeadersStatusValues.Continue;
  }
  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-wasm-response", this.value);
    stream_context.headers.response.replace("server", "isthmus-wasm");
    return FilterHeadersStatusValues.Continue;
  }
}

registerBoth((context_id: u32): RootContext => new AddHeaderRoot(context_id), "add-header");
