// bad-trap (gcore SDK): a plugin that traps on demand, for fail-open/fail-closed/reload tests.
// Config: none. Request headers: when header `x-trap` is present (non-empty):
//   value "abort" -> AssemblyScript abort(): the wasi-shim abort writes
//                    "abort: trap requested in ..." to fd 2, then calls proc_exit(255)
//   any other     -> wasm `unreachable` instruction directly
// Without the header: adds response header `x-trap-survived: <n>` where n counts the requests
// this instance has served (shows whether the host reused or re-created the VM after a trap).
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";

let served: i32 = 0;

class TrapRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Trap(context_id, this);
  }
}

class Trap extends Context {
  constructor(context_id: u32, root: TrapRoot) {
    super(context_id, root);
  }
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const mode = stream_context.headers.request.get("x-trap");
    if (mode == "abort") abort("trap requested");
    if (mode.length > 0) unreachable();
    served++;
    return FilterHeadersStatusValues.Continue;
  }
  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-trap-survived", served.toString());
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32): RootContext => new TrapRoot(context_id), "bad-trap");
