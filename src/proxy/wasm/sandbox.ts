// The sandbox's vocabulary: the errors that end a guest call (trap, CPU limit, proc_exit, memory limit,
// host error), how a thrown value is classified into a failure reason, and the fuel contract with the
// instrumented module (see instrument.ts: the module imports `isthmus.fuel_exhausted: () -> ()` and
// exports a mutable i32 global `isthmus_fuel`, decremented at loop headers and function entries).
// The VM (plugin-vm.ts) owns the single guarded call that uses these.

import { FUEL_GLOBAL_EXPORT, FUEL_IMPORT } from './instrument.js';

/** Module and field of the import an instrumented module calls when its fuel runs out. */
export const FUEL_IMPORT_MODULE = FUEL_IMPORT.module;
export const FUEL_IMPORT_NAME = FUEL_IMPORT.name;
/** The mutable i32 global an instrumented module exports; the host refills it before each callback. */
export { FUEL_GLOBAL_EXPORT };
/** Fuel units per refill: small enough that the CPU clock is consulted every few hundred microseconds. */
export const DEFAULT_FUEL_BUDGET = 10_000;
/** Default CPU-time limit per callback (Envoy has none: envoy#14126). */
export const DEFAULT_CPU_LIMIT_MS = 200;

/** The guest ran past its CPU-time limit in one callback. */
export class CpuLimitExceeded extends Error {
  constructor(readonly limitMs: number) {
    super(`CPU time limit of ${limitMs} ms per callback exceeded`);
    this.name = 'CpuLimitExceeded';
  }
}

/** The guest called WASI proc_exit (AssemblyScript abort, Rust panic=abort paths). */
export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`plugin called proc_exit(${code})`);
    this.name = 'ProcExit';
  }
}

/** The guest's linear memory grew past the configured cap. */
export class MemoryLimitExceeded extends Error {
  constructor(readonly bytes: number, readonly limitBytes: number) {
    super(`linear memory ${bytes} bytes exceeds the limit of ${limitBytes} bytes`);
    this.name = 'MemoryLimitExceeded';
  }
}

export type FailureKind = 'trap' | 'cpu_limit' | 'proc_exit' | 'memory_limit' | 'host_error';

export interface FailureReason {
  readonly kind: FailureKind;
  /** Which guest function was running, e.g. `proxy_on_request_headers`. */
  readonly during: string;
  readonly message: string;
}

/** Classifies whatever a guest call threw. Stack overflow and OOM inside wasm surface as RangeError. */
export function classifyFailure(err: unknown, during: string): FailureReason {
  if (err instanceof CpuLimitExceeded) return { kind: 'cpu_limit', during, message: err.message };
  if (err instanceof ProcExit) return { kind: 'proc_exit', during, message: err.message };
  if (err instanceof MemoryLimitExceeded) return { kind: 'memory_limit', during, message: err.message };
  if (err instanceof WebAssembly.RuntimeError) return { kind: 'trap', during, message: err.message };
  // "Maximum call stack size exceeded" inside wasm is a RangeError; treat as a trap.
  if (err instanceof RangeError) return { kind: 'trap', during, message: err.message };
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { kind: 'host_error', during, message };
}
