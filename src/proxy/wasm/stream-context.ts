// Per-stream handles the proxy drives: WasmHttpContext for an HTTP stream, WasmNetworkContext for a TCP
// connection. Each method calls the matching proxy_on_* export through the VM's guarded call and answers
// 'continue', 'pause' (the Envoy-era SDKs return Envoy enums: 0 is continue, anything else stops) or
// 'failed' (the VM trapped or was already failed: apply the plugin's fail policy). Callbacks the module
// does not export answer 'continue'. ABI 0.1.0 header callbacks take two parameters; wasm ignores the
// extra end_of_stream argument, and TinyGo modules advertising 0.1.0 with three parameters still get it.
// If the proxy calls in while the guest is running (a synchronous path from a host action), the callback
// is queued, 'pause' is returned, and the stream is resumed through the host once the callback continues.

import { PeerType, StreamType } from './abi.js';
import type { ContextRecord, GuestCaller } from './vm-runtime.js';

export type FilterResult = 'continue' | 'pause' | 'failed';

abstract class StreamContextBase {
  constructor(protected readonly vm: GuestCaller, protected readonly rec: ContextRecord) {}

  get id(): number {
    return this.rec.id;
  }

  protected action(name: string, args: number[], direction: StreamType): FilterResult {
    if (this.vm.failed) return 'failed';
    if (this.rec.deleted) return 'continue';
    const f = this.vm.fn(name);
    if (f === undefined) return 'continue';
    if (this.vm.busy) {
      this.vm.post(() => {
        if (this.action(name, args, direction) === 'continue') this.rec.host?.continueStream(direction);
      });
      return 'pause';
    }
    const rt = this.vm.rt;
    const running = { rec: this.rec, direction, continued: false };
    const previous = rt.running;
    rt.running = running;
    let r: number | undefined;
    try {
      r = this.vm.call(name, f, [this.rec.id, ...args], this.rec.id);
    } finally {
      rt.running = previous;
    }
    if (r === undefined) return 'failed';
    return r === 0 || running.continued ? 'continue' : 'pause';
  }

  protected notify(name: string, args: number[]): boolean {
    if (this.vm.failed) return false;
    if (this.rec.deleted) return true;
    const f = this.vm.fn(name);
    if (f === undefined) return true;
    if (this.vm.busy) {
      this.vm.post(() => void this.notify(name, args));
      return true;
    }
    return this.vm.call(name, f, [this.rec.id, ...args], this.rec.id) !== undefined;
  }

  /** proxy_on_log: the access-log point of the stream. */
  onLog(): void {
    this.notify('proxy_on_log', []);
  }

  /**
   * proxy_on_done. False when the plugin answered false: it will call proxy_done later, and the host
   * then calls proxy_on_delete itself.
   */
  onDone(): boolean {
    if (this.vm.failed || this.rec.deleted) return true;
    const f = this.vm.fn('proxy_on_done');
    if (f === undefined || this.vm.busy) return true;
    const r = this.vm.call('proxy_on_done', f, [this.rec.id], this.rec.id);
    if (r === 0) {
      this.rec.awaitingDone = true;
      return false;
    }
    return true;
  }

  /** proxy_on_delete, then forgets the context (pending callouts are cancelled). */
  onDelete(): void {
    if (this.rec.deleted || this.rec.awaitingDone) return;
    this.notify('proxy_on_delete', []);
    this.vm.rt.deleteContext(this.rec);
  }

  /** The end of a stream in Envoy's order: done, log, delete. */
  end(): void {
    const completed = this.onDone();
    this.onLog();
    if (completed) this.onDelete();
  }
}

export class WasmHttpContext extends StreamContextBase {
  readonly kind = 'http' as const;

  onRequestHeaders(numHeaders: number, endOfStream: boolean): FilterResult {
    return this.action('proxy_on_request_headers', [numHeaders, endOfStream ? 1 : 0], StreamType.HTTP_REQUEST);
  }
  /** `bodySize` is the total buffered so far (it grows while the plugin pauses). */
  onRequestBody(bodySize: number, endOfStream: boolean): FilterResult {
    return this.action('proxy_on_request_body', [bodySize, endOfStream ? 1 : 0], StreamType.HTTP_REQUEST);
  }
  onRequestTrailers(numTrailers: number): FilterResult {
    return this.action('proxy_on_request_trailers', [numTrailers], StreamType.HTTP_REQUEST);
  }
  onResponseHeaders(numHeaders: number, endOfStream: boolean): FilterResult {
    return this.action('proxy_on_response_headers', [numHeaders, endOfStream ? 1 : 0], StreamType.HTTP_RESPONSE);
  }
  onResponseBody(bodySize: number, endOfStream: boolean): FilterResult {
    return this.action('proxy_on_response_body', [bodySize, endOfStream ? 1 : 0], StreamType.HTTP_RESPONSE);
  }
  onResponseTrailers(numTrailers: number): FilterResult {
    return this.action('proxy_on_response_trailers', [numTrailers], StreamType.HTTP_RESPONSE);
  }
}

export class WasmNetworkContext extends StreamContextBase {
  readonly kind = 'network' as const;

  onNewConnection(): FilterResult {
    return this.action('proxy_on_new_connection', [], StreamType.DOWNSTREAM);
  }
  onDownstreamData(dataSize: number, endOfStream: boolean): FilterResult {
    return this.action('proxy_on_downstream_data', [dataSize, endOfStream ? 1 : 0], StreamType.DOWNSTREAM);
  }
  onUpstreamData(dataSize: number, endOfStream: boolean): FilterResult {
    return this.action('proxy_on_upstream_data', [dataSize, endOfStream ? 1 : 0], StreamType.UPSTREAM);
  }
  onDownstreamClose(peer: PeerType = PeerType.UNKNOWN): void {
    this.notify('proxy_on_downstream_connection_close', [peer]);
  }
  onUpstreamClose(peer: PeerType = PeerType.UNKNOWN): void {
    this.notify('proxy_on_upstream_connection_close', [peer]);
  }
}
