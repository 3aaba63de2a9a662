// bad-loop (gcore SDK): a plugin that never returns, for CPU-time limit tests.
// Config: none. Request headers: when header `x-loop` is present (non-empty), spins in
// `while (true)` forever (the loop body bumps a global so no optimizer can drop it).
// Without the header: continues and adds response header `x-loop-spins: <global counter>`.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";

let spins: u64 = 0;

class LoopRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Loop(context_id, this);
  }
}

class Loop extends Context {
  constructor(context_id: u32, root: LoopRoot) {
    super(context_id, root);
  }
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    if (stream_context.headers.request.get("x-loop").length > 0) {
      while (true) {
        spins++;
      }
    }
    return FilterHeadersStatusValues.Continue;
  }
  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-loop-spins", spins.toString());
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32): RootContext => new LoopRoot(context_id), "bad-loop");
