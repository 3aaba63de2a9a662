// tcp-count (gcore SDK): a network (TCP) filter plugin. Config: none.
// proxy_on_new_connection: continue. proxy_on_downstream_data / proxy_on_upstream_data: add
// data_size to per-connection counters and continue (data_size is the new chunk's size, as the
// plugin never pauses). proxy_on_downstream_connection_close logs (info, via fd_write):
//   "[INFO]: tcp downstream_bytes=<n> upstream_bytes=<m>"
// The solo-io SDK 0.1.8 has no network exports (proxy_on_new_connection etc.), so this
// plugin exists only for gcore.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, registerRootContext, FilterStatusValues, log, LogLevelValues,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";
import { PeerTypeValues } from "@gcoredev/proxy-wasm-sdk-as/assembly/runtime";

class TcpRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new TcpCount(context_id, this);
  }
}

class TcpCount extends Context {
  downstream: u64 = 0;
  upstream: u64 = 0;
  constructor(context_id: u32, root: TcpRoot) {
    super(context_id, root);
  }
  onNewConnection(): FilterStatusValues {
    return FilterStatusValues.Continue;
  }
  onDownstreamData(size: usize, end: bool): FilterStatusValues {
    this.downstream += <u64>size;
    return FilterStatusValues.Continue;
  }
  onUpstreamData(size: usize, end: bool): FilterStatusValues {
    this.upstream += <u64>size;
    return FilterStatusValues.Continue;
  }
  onDownstreamConnectionClose(t: PeerTypeValues): void {
    log(LogLevelValues.info, "tcp downstream_bytes=" + this.downstream.toString() + " upstream_bytes=" + this.upstream.toString());
  }
}

registerRootContext((context_id: u32): RootContext => new TcpRoot(context_id), "tcp-count");
