// Process-wide shared key-value data for plugins (proxy_get/set_shared_data), scoped by vm_id as Envoy's
// SharedData is, so every VM of a plugin (and a VM re-created by FAIL_RELOAD) sees the same values.
// CAS: every write bumps the key's cas; a write naming a non-zero cas that differs fails with CAS_MISMATCH
// (a cas of 0 writes unconditionally). Values are stored as copies.

import { WasmResult } from './abi.js';

interface Entry {
  value: Uint8Array;
  cas: number;
}

export class SharedDataStore {
  private readonly byVm = new Map<string, Map<string, Entry>>();
  private nextCas = 1;

  get(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined {
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

/** The store shared by every plugin VM in this process. */
export const PROCESS_SHARED_DATA = new SharedDataStore();
