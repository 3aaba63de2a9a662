// bad-garbage (gcore SDK): a plugin that hands the host pointers far outside its memory, to
// prove the host answers INVALID_MEMORY_ACCESS (6) instead of crashing. Config: none.
// On every request (request headers) it calls, with raw imports:
//   1. proxy_log(INFO, 0xFFFF0000, 100)                         -> status A
//   2. proxy_get_header_map_value(REQUEST_HEADERS, key=0xFFFFFF00, 16, <valid out ptrs>) -> B
//   3. proxy_get_header_map_value(REQUEST_HEADERS, ":path", <out ptrs 0xFFFFFFF0/0xFFFFFFF8>) -> C
//   4. proxy_log(INFO, 0x7FFFFFF0, 0xFFFFFFFF)  (start+size overflows 32 bits) -> status D
// and adds response headers `x-garbage-status: <A>`, `x-garbage-key-status: <B>`,
// `x-garbage-out-status: <C>`, `x-garbage-overflow-status: <D>` (expected: 6 each).
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";

@external("env", "proxy_log")
declare function raw_proxy_log(level: u32, message: usize, size: usize): u32;
@external("env", "proxy_get_header_map_value")
declare function raw_get_header_map_value(map: u32, key: usize, key_size: usize, value_out: usize, size_out: usize): u32;

class OutPair {
  ptr: usize = 0;
  size: usize = 0;
}

class GarbageRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Garbage(context_id, this);
  }
}

class Garbage extends Context {
  logStatus: u32 = 99;
  keyStatus: u32 = 99;
  outStatus: u32 = 99;
  overflowStatus: u32 = 99;
  constructor(context_id: u32, root: GarbageRoot) {
    super(context_id, root);
  }
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const out = new OutPair();
    const outAt = changetype<usize>(out);
    this.logStatus = raw_proxy_log(2, 0xFFFF0000, 100);
    this.keyStatus = raw_get_header_map_value(0, 0xFFFFFF00, 16, outAt + offsetof<OutPair>("ptr"), outAt + offsetof<OutPair>("size"));
    const key = String.UTF8.encode(":path");
    this.outStatus = raw_get_header_map_value(0, changetype<usize>(key), key.byteLength, 0xFFFFFFF0, 0xFFFFFFF8);
    this.overflowStatus = raw_proxy_log(2, 0x7FFFFFF0, 0xFFFFFFFF);
    return FilterHeadersStatusValues.Continue;
  }
  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-garbage-status", this.logStatus.toString());
    stream_context.headers.response.add("x-garbage-key-status", this.keyStatus.toString());
    stream_context.headers.response.add("x-garbage-out-status", this.outStatus.toString());
    stream_context.headers.response.add("x-garbage-overflow-status", this.overflowStatus.toString());
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32): RootContext => new GarbageRoot(context_id), "bad-garbage");
