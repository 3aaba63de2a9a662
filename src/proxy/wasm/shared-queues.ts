// Process-wide shared queues (proxy_register/resolve/enqueue/dequeue_shared_queue). A queue is named by
// (vm_id, name); the VM that registers it owns it and receives proxy_on_queue_ready on its root context
// whenever something is enqueued, from any VM of any plugin that resolved it (Envoy's cross-VM queues).
// Re-registering the same (vm_id, name) — e.g. a VM re-created by FAIL_RELOAD — keeps the id and the
// pending items and moves the ownership to the new registrant.

import { WasmResult } from './abi.js';

/** Notified (by the queue registry) that a queue it owns has data. */
export type QueueReadyListener = (queueId: number) => void;

interface Queue {
  readonly id: number;
  readonly vmId: string;
  readonly name: string;
  readonly items: Uint8Array[];
  owner: QueueReadyListener | undefined;
}

export class SharedQueueRegistry {
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

  dequeue(queueId: number): { status: WasmResult.OK; value: Uint8Array } | { status: WasmResult.NOT_FOUND | WasmResult.EMPTY } {
    const q = this.byId.get(queueId);
    if (q === undefined) return { status: WasmResult.NOT_FOUND };
    const value = q.items.shift();
    if (value === undefined) return { status: WasmResult.EMPTY };
    return { status: WasmResult.OK, value };
  }

  /** Drops the owner of every queue it owns (its VM closed); items stay for a successor. */
  release(owner: QueueReadyListener): void {
    for (const q of this.byId.values()) if (q.owner === owner) q.owner = undefined;
  }
}

export const PROCESS_SHARED_QUEUES = new SharedQueueRegistry();
