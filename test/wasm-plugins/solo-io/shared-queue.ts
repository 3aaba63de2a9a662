// shared-queue (solo-io SDK): shared data with compare-and-swap plus a shared queue.
// Config: none. Root id "shared-queue".
// Root context, on proxy_on_vm_start: registers shared queue "paths" (token kept by the root).
// Request headers: increments shared-data key "requests" (decimal text, CAS loop, see
// lib/shared-counter.ts) and enqueues the request `:path` on "paths".
// Response headers: adds `x-request-count: <value after this request's increment>`
// (`-1` if the host refused the write).
// proxy_on_queue_ready: dequeues until EMPTY and logs (info) "dequeued <path>" for each item.
// Uses raw imports (lib/raw.ts): 0.1.8's shared-data and register-queue wrappers are broken.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@solo-io/proxy-runtime/proxy";
import { RootContext, Context, FilterHeadersStatusValues, stream_context, log, LogLevelValues } from "@solo-io/proxy-runtime/runtime";
import { ConfiguredRoot, registerBoth } from "./lib/configured-root";
import { registerSharedQueue, enqueueSharedQueue, dequeueSharedQueue } from "./lib/raw";
import { incrementSharedCounter } from "./lib/shared-counter";

class SharedQueueRoot extends ConfiguredRoot {
  token: u32 = 0xFFFFFFFF;
  onStart(vm_configuration_size: usize): bool {
    this.token = registerSharedQueue("paths");
    if (this.token == 0xFFFFFFFF) log(LogLevelValues.error, "shared-queue: cannot register queue paths");
    return true;
  }
  onQueueReady(token: u32): void {
    while (true) {
      const item = dequeueSharedQueue(token);
      if (item.status != 0) break; // 7 = EMPTY, 1 = NOT_FOUND
      log(LogLevelValues.info, "dequeued " + item.data);
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
    if (root.token != 0xFFFFFFFF) enqueueSharedQueue(root.token, stream_context.headers.request.get(":path"));
    return FilterHeadersStatusValues.Continue;
  }
  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-request-count", this.count.toString());
    return FilterHeadersStatusValues.Continue;
  }
}

registerBoth((context_id: u32): RootContext => new SharedQueueRoot(context_id), "shared-queue");
