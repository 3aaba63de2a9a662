// Delivers asynchronous events to a VM's root context: HTTP call responses, gRPC call/stream events,
// shared-queue notifications, ticks, and late proxy_done completions. Each delivery waits until the guest
// is idle (PluginVm.post) and runs as its own guarded call. Callout events whose owning stream ended are
// dropped; during a callout callback the callout's data is readable (HTTP_CALL_RESPONSE_*, gRPC message
// and metadata) and stream operations fall back to the owning stream (VmRuntime.streamTarget).

import type { WasmGrpcHandlers } from './host-types.js';
import type { HeaderPairs } from './pairs.js';
import type { CallbackScope, ContextRecord, GuestCaller, GuestDelivery, PendingCallout } from './vm-runtime.js';

const EMPTY = new Uint8Array(0);

export class VmGuestDelivery implements GuestDelivery {
  constructor(private readonly vm: GuestCaller) {}

  private rootCall(name: string, args: number[], scope: CallbackScope = {}, owner?: ContextRecord): void {
    const f = this.vm.fn(name);
    if (f === undefined) return;
    const rt = this.vm.rt;
    rt.scope = scope;
    rt.calloutOwner = owner !== undefined && owner.kind !== 'root' ? owner : undefined;
    try {
      this.vm.call(name, f, [rt.rootContextId, ...args], rt.rootContextId);
    } finally {
      rt.scope = {};
      rt.calloutOwner = undefined;
    }
  }

  private live(c: PendingCallout | undefined): c is PendingCallout {
    return c !== undefined && !c.owner.deleted && !this.vm.rt.closed;
  }

  httpCallResponse(token: number, response: { headers: HeaderPairs; body: Uint8Array; trailers: HeaderPairs } | undefined): void {
    this.vm.post(() => {
      const c = this.vm.rt.takeCallout(token);
      if (!this.live(c)) return;
      const r = response ?? { headers: [], body: EMPTY, trailers: [] };
      // A failed call is delivered with num_headers = 0 (spec).
      this.rootCall('proxy_on_http_call_response', [token, r.headers.length, r.body.byteLength, r.trailers.length], { callResponse: r }, c.owner);
    });
  }

  grpcEvent(token: number, kind: keyof WasmGrpcHandlers, a: HeaderPairs | Uint8Array | number, message?: string): void {
    this.vm.post(() => {
      const rt = this.vm.rt;
      const c = kind === 'onClose' ? rt.takeCallout(token) : rt.callouts.get(token);
      if (!this.live(c)) return;
      switch (kind) {
        case 'onInitialMetadata': {
          const md = a as HeaderPairs;
          this.rootCall('proxy_on_grpc_receive_initial_metadata', [token, md.length], { grpcInitialMetadata: md }, c.owner);
          return;
        }
        case 'onMessage': {
          const msg = a as Uint8Array;
          this.rootCall('proxy_on_grpc_receive', [token, msg.byteLength], { grpcMessage: msg }, c.owner);
          return;
        }
        case 'onTrailingMetadata': {
          const md = a as HeaderPairs;
          // AS proxy-runtime exports the misspelt proxy_on_grpc_trailing_metadata.
          const name = this.vm.fn('proxy_on_grpc_receive_trailing_metadata') !== undefined ? 'proxy_on_grpc_receive_trailing_metadata' : 'proxy_on_grpc_trailing_metadata';
          this.rootCall(name, [token, md.length], { grpcTrailingMetadata: md }, c.owner);
          return;
        }
        case 'onClose': {
          const code = a as number;
          rt.status = { code, message: message ?? '' };
          this.rootCall('proxy_on_grpc_close', [token, code], {}, c.owner);
          return;
        }
      }
    });
  }

  queueReady(queueId: number): void {
    this.vm.post(() => {
      if (!this.vm.rt.closed) this.rootCall('proxy_on_queue_ready', [queueId]);
    });
  }

  tick(): void {
    this.vm.post(() => {
      if (!this.vm.rt.closed) this.rootCall('proxy_on_tick', []);
    });
  }

  contextDone(rec: ContextRecord): void {
    this.vm.post(() => {
      if (rec.deleted) return;
      const del = this.vm.fn('proxy_on_delete');
      if (del !== undefined) this.vm.call('proxy_on_delete', del, [rec.id], rec.id);
      this.vm.rt.deleteContext(rec);
    });
  }
}
