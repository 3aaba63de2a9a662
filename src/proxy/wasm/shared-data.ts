// Shared key-value data for plugins (proxy_get/set_shared_data), scoped by vm_id as Envoy's SharedData is,
// so every VM of a plugin (and a VM re-created by FAIL_RELOAD) sees the same values.
// CAS: every write bumps the key's cas; a write naming a non-zero cas that differs fails with CAS_MISMATCH
// (a cas of 0 writes unconditionally). Values are stored as copies. (proxy-wasm-cpp-host src/shared_data.cc)
//
// `SharedDataStore` is the interface the host calls. It has two implementations: InProcessSharedData, the
// store itself (a single proxy process, and the primary of `--concurrency N`, which owns the one store of
// the proxy), and the worker's RemoteSharedData (remote-shared-store.ts), which asks the primary, so that
// every worker's VMs share one store as Envoy's worker threads do. The process's store is in-process unless
// a worker's composition root switches it, once, before any plugin starts (setProcessSharedData).
// `SharedDataStore` is also a value: `new SharedDataStore()` builds an in-process store.

import { WasmResult } from './abi.js';

export interface SharedDataEntry {
  readonly value: Uint8Array;
  readonly cas: number;
}

export interface SharedDataStore {
  /** The value and its cas; undefined when the key (or the vm_id) has none. */
  get(vmId: string, key: string): SharedDataEntry | undefined;
  /** OK, CAS_MISMATCH, or (remote store only) INTERNAL_FAILURE when the owner cannot be reached. */
  set(vmId: string, key: string, value: Uint8Array, cas: number): WasmResult;
}

interface Entry {
  value: Uint8Array;
  cas: number;
}

export class InProcessSharedData implements SharedDataStore {
  private readonly byVm = new Map<string, Map<string, Entry>>();
  private nextCas = 1;

  get(vmId: string, key: string): SharedDataEntry | undefined {
    const e = this.byVm.get(vmId)?.get(key);
    return e === undefined ? undefined : { value: e.value, cas: e.cas };
  }

  set(vmId: string, key: string, value: Uint8Array, cas: number): WasmResult {
    let map = this.byVm.get(vmId);
    if (map === undefined) {
      map = new Map();
      this.byVm.set(vmId, map);
    }
    const existing = map.get(key);
    if (cas !== 0 && existing !== undefined && existing.cas !== cas) return WasmResult.CAS_MISMATCH;
    map.set(key, { value: value.slice(), cas: this.bumpCas() });
    return WasmResult.OK;
  }

  private bumpCas(): number {
    const c = this.nextCas;
    // u32 on the wire; 0 means "no cas", so skip it on wrap-around.
    this.nextCas = this.nextCas >= 0xffffffff ? 1 : this.nextCas + 1;
    return c;
  }
}

/** `new SharedDataStore()`: an in-process store (the interface's name doubles as its default constructor). */
export const SharedDataStore: new () => SharedDataStore = InProcessSharedData;

let processStore: SharedDataStore | undefined;

/** The store shared by every plugin VM of this process (VMs use it unless given their own). */
export function processSharedData(): SharedDataStore {
  return (processStore ??= new InProcessSharedData());
}

/** A worker's composition root points this process's VMs at the primary's store, before any plugin starts. */
export function setProcessSharedData(store: SharedDataStore): void {
  processStore = store;
}
