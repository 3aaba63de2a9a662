// A worker's view of the proxy's shared data and shared queues, which the primary owns (`isthmus proxy
// --concurrency N`; workers/wasm-shared-server.ts answers). In Envoy every worker thread's VM with the same
// vm_id shares one store behind a mutex; our workers are processes, so each call here is one synchronous
// request to the primary over a blocking channel (workers/wasm-shared-channel.ts): the guest is blocked in
// a host call anyway, and the primary applies requests one at a time, so a CAS is linearizable across all
// workers. What one call costs is a round trip between two processes (~tens of µs).
// Queue readiness travels the other way on the workers' IPC channel: the primary tells the worker whose VM
// registered a queue last (Envoy: the last registrant's thread) and `notify` hands it to that VM's listener.
// When the primary cannot be reached (it is going away, and so is this worker) calls answer
// INTERNAL_FAILURE / not found, never throw into the guest.

import { WasmResult } from './abi.js';
import type { SharedDataEntry, SharedDataStore } from './shared-data.js';
import type { DequeueResult, QueueReadyListener, SharedQueueRegistry } from './shared-queues.js';
import { SharedOp, decodeSharedResponse, encodeSharedRequest, type SharedRequest, type SharedResponse } from './shared-store-protocol.js';

/** One blocking round trip: a request frame out, the response frame's body back (undefined: channel broken). */
export interface SharedStoreTransport {
  call(frame: Uint8Array): Uint8Array | undefined;
}

const dec = new TextDecoder();

function ask(t: SharedStoreTransport, r: SharedRequest): SharedResponse | undefined {
  const body = t.call(encodeSharedRequest(r));
  return body === undefined ? undefined : decodeSharedResponse(body);
}

export class RemoteSharedData implements SharedDataStore {
  constructor(private readonly t: SharedStoreTransport) {}

  get(vmId: string, key: string): SharedDataEntry | undefined {
    const r = ask(this.t, { op: SharedOp.GET, vmId, key });
    // A copy: the body's buffer belongs to the transport.
    return r === undefined || r.status !== WasmResult.OK ? undefined : { value: r.data.slice(), cas: r.num };
  }

  set(vmId: string, key: string, value: Uint8Array, cas: number): WasmResult {
    return ask(this.t, { op: SharedOp.SET, vmId, key, cas, value })?.status ?? WasmResult.INTERNAL_FAILURE;
  }
}

export class RemoteSharedQueues implements SharedQueueRegistry {
  /** Queues a VM of this worker registered, by token, with the listener of the VM that did it last. */
  private readonly owners = new Map<number, QueueReadyListener>();

  constructor(private readonly t: SharedStoreTransport) {}

  register(vmId: string, name: string, owner: QueueReadyListener): number {
    const r = ask(this.t, { op: SharedOp.REGISTER, vmId, name });
    if (r === undefined || r.status !== WasmResult.OK) return 0;
    this.owners.set(r.num, owner);
    return r.num;
  }

  resolve(vmId: string, name: string): number | undefined {
    const r = ask(this.t, { op: SharedOp.RESOLVE, vmId, name });
    return r === undefined || r.status !== WasmResult.OK ? undefined : r.num;
  }

  enqueue(queueId: number, value: Uint8Array): WasmResult {
    return ask(this.t, { op: SharedOp.ENQUEUE, token: queueId, value })?.status ?? WasmResult.INTERNAL_FAILURE;
  }

  dequeue(queueId: number): DequeueResult {
    const r = ask(this.t, { op: SharedOp.DEQUEUE, token: queueId });
    if (r === undefined) return { status: WasmResult.INTERNAL_FAILURE };
    if (r.status === WasmResult.OK) return { status: WasmResult.OK, value: r.data.slice() };
    return { status: r.status === WasmResult.EMPTY ? WasmResult.EMPTY : WasmResult.NOT_FOUND };
  }

  release(owner: QueueReadyListener): void {
    for (const [token, l] of this.owners) {
      if (l !== owner) continue;
      this.owners.delete(token);
      ask(this.t, { op: SharedOp.RELEASE, token });
    }
  }

  /** The primary says queue `token` has data: its registrant in this worker (if still here) is told. */
  notify(token: number): void {
    this.owners.get(token)?.(token);
  }
}

/** The primary's answer for a plugin's host_env_keys (the proxy's environment, as in a single process). */
export function remoteHostEnv(t: SharedStoreTransport): (key: string) => string | undefined {
  return (key) => {
    const r = ask(t, { op: SharedOp.HOST_ENV, key });
    return r === undefined || r.status !== WasmResult.OK ? undefined : dec.decode(r.data);
  };
}
