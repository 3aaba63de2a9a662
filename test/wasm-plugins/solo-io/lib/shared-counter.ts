// Increment a decimal counter in proxy-wasm shared data with compare-and-swap (solo-io SDK
// flavour, through raw.ts because 0.1.8's shared-data wrappers are broken). A missing key is
// created with cas 0 (unconditional set). Gives up after 16 CAS mismatches.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
import { getSharedData, setSharedData } from "./raw";
import { parseCount } from "../../common/json";

/** Returns the new value, or -1 when the host kept refusing the write. */
export function incrementSharedCounter(key: string): i64 {
  for (let attempt = 0; attempt < 16; attempt++) {
    const cur = getSharedData(key);
    const next = (cur.status == 0 ? parseCount(cur.value) : 0) + 1;
    const status = setSharedData(key, next.toString(), cur.status == 0 ? cur.cas : 0);
    if (status == 0) return next;
    if (status != 8 /* CAS_MISMATCH */) return -1;
  }
  return -1;
}
