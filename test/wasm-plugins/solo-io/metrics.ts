// metrics (solo-io SDK): counter, gauge and histogram through proxy_define_metric & co.
// Config: none. Root id "metrics". Metrics are defined in proxy_on_configure:
//   counter   `wasm_requests_total`           +1 per request (request headers)
//   gauge     `wasm_active_requests`          +1 at request headers, -1 when the stream is done
//   histogram `wasm_request_headers`          records the request's header count (the
//                                             num_headers argument of proxy_on_request_headers)
// (Envoy exposes these under the `wasmcustom.` stats prefix.)
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, FilterHeadersStatusValues, Counter, Gauge, Histogram,
} from "@solo-io/proxy-runtime/runtime";
import { ConfiguredRoot, registerBoth } from "./lib/configured-root";

class MetricsRoot extends ConfiguredRoot {
  requests: Counter | null = null;
  active: Gauge | null = null;
  headerCount: Histogram | null = null;
  configure(config: string): bool {
    if (this.requests == null) {
      this.requests = new Counter("wasm_requests_total");
      this.active = new Gauge("wasm_active_requests");
      this.headerCount = new Histogram("wasm_request_headers");
    }
    return true;
  }
  createContext(context_id: u32): Context {
    return new Measured(context_id, this);
  }
}

class Measured extends Context {
  counted: bool = false;
  constructor(context_id: u32, root: MetricsRoot) {
    super(context_id, root);
  }
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as MetricsRoot;
    (root.requests as Counter).increment(1);
    (root.active as Gauge).increment(1);
    const h = root.headerCount as Histogram;
    h.record(h.metric_id, <u64>headers);
    this.counted = true;
    return FilterHeadersStatusValues.Continue;
  }
  onDone(): bool {
    if (this.counted) {
      (( this.root_context as MetricsRoot).active as Gauge).increment(-1);
      this.counted = false;
    }
    return true;
  }
}

registerBoth((context_id: u32): RootContext => new MetricsRoot(context_id), "metrics");
