// Increment a decimal counter in proxy-wasm shared data with compare-and-swap, through the gcore
// SDK's get_shared_data/set_shared_data. A missing key is created with cas 0 (unconditional
// set). Gives up after 16 CAS mismatches.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
import { get_shared_data, set_shared_data, WasmResultValues } from "@gcoredev/proxy-wasm-sdk-as/assembly";
import { parseCount } from "../../common/json";

/** Returns the new value, or -1 when the host kept refusing the write. */
export function incrementSharedCounter(key: string): i64 {
  for (let attempt = 0; attempt < 16; attempt++) {
    const cur = get_shared_data(key);
    let next: i64 = 1;
    let cas: u32 = 0;
    if (cur.result == WasmResultValues.Ok) {
      const value = cur.value;
      next = (value != null ? parseCount(String.UTF8.decode(value)) : 0) + 1;
      cas = cur.cas;
    }
    const status = set_shared_data(key, String.UTF8.encode(next.toString()), cas);
    if (status == WasmResultValues.Ok) return next;
    if (status != WasmResultValues.CasMismatch) return -1;
  }
  return -1;
}
