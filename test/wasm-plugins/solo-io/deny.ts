// deny (solo-io SDK): local 403 reply by path prefix or header presence.
// Config (JSON): {"deny_path":"/admin","deny_header":"x-evil"}; both optional, empty = rule off.
// Config that is non-empty but not a JSON object is rejected (proxy_on_configure returns 0).
// Root id "deny".
// When `:path` starts with deny_path, or request header deny_header is present with a non-empty
// value: proxy_send_local_response(403, details "wasm_deny", body "denied by wasm\n",
// headers [x-wasm-denied: true], grpc_status -1) and returns StopIteration.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, FilterHeadersStatusValues, stream_context, send_local_response,
  HeaderPair, GrpcStatusValues,
} from "@solo-io/proxy-runtime/runtime";
import { ConfiguredRoot, registerBoth } from "./lib/configured-root";
import { isJsonObject, jsonString } from "../common/json";

class DenyRoot extends ConfiguredRoot {
  denyPath: string = "";
  denyHeader: string = "";
  configure(config: string): bool {
    if (config.length == 0) return true;
    if (!isJsonObject(config)) return false;
    this.denyPath = jsonString(config, "deny_path", "");
    this.denyHeader = jsonString(config, "deny_header", "");
    return true;
  }
  createContext(context_id: u32): Context {
    return new Deny(context_id, this);
  }
}

class Deny extends Context {
  constructor(context_id: u32, root: DenyRoot) {
    super(context_id, root);
  }
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as DenyRoot;
    let deny = false;
    if (root.denyPath.length > 0 && stream_context.headers.request.get(":path").startsWith(root.denyPath)) deny = true;
    if (root.denyHeader.length > 0 && stream_context.headers.request.get(root.denyHeader).length > 0) deny = true;
    if (!deny) return FilterHeadersStatusValues.Continue;
    const extra: HeaderPair[] = [new HeaderPair(String.UTF8.encode("x-wasm-denied"), String.UTF8.encode("true"))];
    send_local_response(403, "wasm_deny", String.UTF8.encode("denied by wasm\n"), extra, GrpcStatusValues.InvalidCode);
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerBoth((context_id: u32): RootContext => new DenyRoot(context_id), "deny");
