// Shared queues (proxy_register/resolve/enqueue/dequeue_shared_queue). A queue is named by (vm_id, name);
// the VM that registers it owns it and receives proxy_on_queue_ready on its root context whenever something
// is enqueued, from any VM of any plugin that resolved it (Envoy's cross-VM queues). Registering the same
// (vm_id, name) again — another worker's VM, or a VM re-created by FAIL_RELOAD — keeps the token and the
// pending items and moves the ownership to the new registrant, as cpp-host's SharedQueue::registerQueue
// does (src/shared_queue.cc: the last registrant's context gets onQueueReady; enqueue or dequeue on an
// unknown token is NotFound; 0 is never a token).
//
// `SharedQueueRegistry` is the interface the host calls: InProcessSharedQueues holds the queues (a single
// proxy process, and the primary of `--concurrency N`); a worker's RemoteSharedQueues (remote-shared-store.ts)
// asks the primary. `SharedQueueRegistry` is also a value: `new SharedQueueRegistry()` is in-process.

import { WasmResult } from './abi.js';

/** Notified (by the queue registry) that a queue it owns has data. */
export type QueueReadyListener = (queueId: number) => void;

export type DequeueResult = { readonly status: WasmResult.OK; readonly value: Uint8Array } | { readonly status: WasmResult.NOT_FOUND | WasmResult.EMPTY | WasmResult.INTERNAL_FAILURE };

export interface SharedQueueRegistry {
  /** The queue's token (new, or the existing one), now owned by `owner`; 0 only when a remote owner is unreachable. */
  register(vmId: string, name: string, owner: QueueReadyListener): number;
  resolve(vmId: string, name: string): number | undefined;
  /** OK, NOT_FOUND (unknown token), or INTERNAL_FAILURE (remote owner unreachable). */
  enqueue(queueId: number, value: Uint8Array): WasmResult;
  dequeue(queueId: number): DequeueResult;
  /** Drops the owner of every queue it owns (its VM closed); items stay for a successor. */
  release(owner: QueueReadyListener): void;
}

interface Queue {
  readonly id: number;
  readonly vmId: string;
  readonly name: string;
  readonly items: Uint8Array[];
  owner: QueueReadyListener | undefined;
}

export class InProcessSharedQueues implements SharedQueueRegistry {
  private readonly byKey = new Map<string, Queue>();
  private readonly byId = new Map<number, Queue>();
  private nextId = 1;

  register(vmId: string, name: string, owner: QueueReadyListener): number {
    const key = vmId + '\0' + name;
    let q = this.byKey.get(key);
    if (q === undefined) {
      q = { id: this.nextId++, vmId, name, items: [], owner };
      this.byKey.set(key, q);
      this.byId.set(q.id, q);
    } else {
      q.owner = owner;
    }
    return q.id;
  }

  resolve(vmId: string, name: string): number | undefined {
    return this.byKey.get(vmId + '\0' + name)?.id;
  }

  enqueue(queueId: number, value: Uint8Array): WasmResult {
    const q = this.byId.get(queueId);
    if (q === undefined) return WasmResult.NOT_FOUND;
    q.items.push(value.slice());
    q.owner?.(q.id);
    return WasmResult.OK;
  }

  dequeue(queueId: number): DequeueResult {
    const q = this.byId.get(queueId);
    if (q === undefined) return { status: WasmResult.NOT_FOUND };
    const value = q.items.shift();
    if (value === undefined) return { status: WasmResult.EMPTY };
    return { status: WasmResult.OK, value };
  }

  release(owner: QueueReadyListener): void {
    for (const q of this.byId.values()) if (q.owner === owner) q.owner = undefined;
  }
}

/** `new SharedQueueRegistry()`: in-process queues (the interface's name doubles as its default constructor). */
export const SharedQueueRegistry: new () => SharedQueueRegistry = InProcessSharedQueues;

let processQueues: SharedQueueRegistry | undefined;

/** The queues shared by every plugin VM of this process (VMs use them unless given their own). */
export function processSharedQueues(): SharedQueueRegistry {
  return (processQueues ??= new InProcessSharedQueues());
}

/** A worker's composition root points this process's VMs at the primary's queues, before any plugin starts. */
export function setProcessSharedQueues(queues: SharedQueueRegistry): void {
  processQueues = queues;
}
