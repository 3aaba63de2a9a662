// shared-queue (gcore SDK): shared data with compare-and-swap plus a shared queue.
// Config: none. Any root id.
// Root context, on proxy_on_vm_start: registers shared queue "paths" (token kept by the root).
// Request headers: increments shared-data key "requests" (decimal text, CAS loop, see
// lib/shared-counter.ts) and enqueues the request `:path` on "paths".
// Response headers: adds `x-request-count: <value after this request's increment>`
// (`-1` if the host refused the write).
// proxy_on_queue_ready: dequeues until EMPTY and logs (info) "dequeued <path>" for each item.
// Logs go through WASI fd_write on stdout as "[INFO]: dequeued <path>" (the gcore SDK's log()).
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import { RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context, log, LogLevelValues } from "@gcoredev/proxy-wasm-sdk-as/assembly";
import { ConfiguredRoot } from "./lib/configured-root";
import { register_shared_queue, enqueue_shared_queue, dequeue_shared_queue, WasmResultValues } from "@gcoredev/proxy-wasm-sdk-as/assembly";
import { incrementSharedCounter } from "./lib/shared-counter";

class SharedQueueRoot extends ConfiguredRoot {
  token: u32 = 0xFFFFFFFF;
  onStart(vm_configuration_size: usize): bool {
    const registered = register_shared_queue("paths");
    if (registered.result == WasmResultValues.Ok) this.token = registered.token;
    else log(LogLevelValues.error, "shared-queue: cannot register queue paths");
    return true;
  }
  onQueueReady(token: u32): void {
    while (true) {
      const item = dequeue_shared_queue(token);
      const data = item.data;
      if (item.result != WasmResultValues.Ok || data == null) break; // EMPTY / NOT_FOUND
      log(LogLevelValues.info, "dequeued " + String.UTF8.decode(data));
    }
  }
  createContext(context_id: u32): Context {
    return new Counting(context_id, this);
  }
}

class Counting extends Context {
  count: i64 = 0;
  constructor(context_id: u32, root: SharedQueueRoot) {
    super(context_id, root);
  }
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    this.count = incrementSharedCounter("requests");
    const root = this.root_context as SharedQueueRoot;
    if (root.token != 0xFFFFFFFF) enqueue_shared_queue(root.token, String.UTF8.encode(stream_context.headers.request.get(":path")));
    return FilterHeadersStatusValues.Continue;
  }
  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-request-count", this.count.toString());
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32): RootContext => new SharedQueueRoot(context_id), "shared-queue");
