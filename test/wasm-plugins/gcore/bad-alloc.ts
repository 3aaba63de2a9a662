// bad-alloc (gcore SDK): a plugin that eats linear memory, for memory-cap tests.
// Config: none. Request headers, when header `x-alloc` is present (non-empty):
//   value "grow" -> calls memory.grow(16) (1 MiB) until the engine refuses (-1), then continues
//                   and adds response header `x-alloc-grown-pages: <pages obtained>` and
//                   `x-alloc-total-pages: <memory.size()>` (the plugin survives a cap)
//   any other    -> heap.alloc(1 MiB) in a loop, never freed, until the AssemblyScript
//                   allocator cannot grow memory and traps (`unreachable`). heap.alloc does
//                   not zero-fill, so an uncapped run reserves up to 4 GiB without touching it
// Without the header: continues; response gets `x-alloc-total-pages: <memory.size()>`.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";

let hoarded: usize = 0;

class AllocRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Alloc(context_id, this);
  }
}

class Alloc extends Context {
  grown: i32 = -1;
  constructor(context_id: u32, root: AllocRoot) {
    super(context_id, root);
  }
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const mode = stream_context.headers.request.get("x-alloc");
    if (mode == "grow") {
      this.grown = 0;
      while (memory.grow(16) >= 0) this.grown += 16;
    } else if (mode.length > 0) {
      while (true) hoarded = heap.alloc(1 << 20);
    }
    return FilterHeadersStatusValues.Continue;
  }
  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    if (this.grown >= 0) stream_context.headers.response.add("x-alloc-grown-pages", this.grown.toString());
    stream_context.headers.response.add("x-alloc-total-pages", memory.size().toString());
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32): RootContext => new AllocRoot(context_id), "bad-alloc");
