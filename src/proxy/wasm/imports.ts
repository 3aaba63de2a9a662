// Builds a module's import object from what it declares (WebAssembly.Module.imports), so every declared
// import resolves: Rust SDK modules import ~32 env.proxy_* functions even when they use three.
// - env.proxy_*: the hostcalls for the module's ABI version (0.1.0: get_configuration, continue_request,
//   continue_response, clear_route_cache; 0.2.x: continue_stream, close_stream; 0.2.1: get_log_level),
//   as cpp-host registers them (src/wasm.cc); any other env function answers UNIMPLEMENTED (12).
// - WASI under wasi_snapshot_preview1 and wasi_unstable (wasi.ts); functions outside preview1 get ENOSYS.
// - isthmus.fuel_exhausted, for modules instrumented by instrument.ts.
// Imported globals, memories and tables are not provided: they fail the load with a clear message.
// With the import signatures (import-signatures.ts), stubs return the declared result type and the
// AssemblyScript proxy-runtime 0.1.8 gRPC declarations (no initial-metadata pair) are adapted.

import type { AbiVersion } from './abi.js';
import { WasmResult } from './abi.js';
import { coreHostcalls } from './hostcalls-core.js';
import type { FuncSignature, ImportSignatures } from './import-signatures.js';
import { calloutHostcalls } from './hostcalls-callouts.js';
import { streamHostcalls } from './hostcalls-stream.js';
import { FUEL_IMPORT_MODULE, FUEL_IMPORT_NAME } from './sandbox.js';
import type { VmRuntime } from './vm-runtime.js';
import type { HostFunction, WasiOutput } from './wasi.js';
import { UNKNOWN_WASI_ERRNO, WASI_MODULES, wasiImports } from './wasi.js';

const ONLY_0_1_0 = new Set(['proxy_get_configuration', 'proxy_continue_request', 'proxy_continue_response', 'proxy_clear_route_cache']);
const FROM_0_2_0 = new Set(['proxy_continue_stream', 'proxy_close_stream']);
const FROM_0_2_1 = new Set(['proxy_get_log_level']);

function availableIn(name: string, abi: AbiVersion): boolean {
  if (ONLY_0_1_0.has(name)) return abi === '0.1.0';
  if (FROM_0_2_0.has(name)) return abi !== '0.1.0';
  if (FROM_0_2_1.has(name)) return abi === '0.2.1';
  return true;
}

export type ImportsResult =
  | { readonly ok: true; readonly imports: WebAssembly.Imports; readonly unimplemented: readonly string[] }
  | { readonly ok: false; readonly error: string };

type StubFunction = (...args: never[]) => number | bigint | void;

/** A stub answering `value` in the declared result type (i32 when the signature is unknown). */
function stub(sig: FuncSignature | undefined, value: number): StubFunction {
  const result = sig === undefined ? 'i32' : sig.results[0];
  if (result === undefined) return () => undefined;
  if (result === 'i64') return () => BigInt(value);
  if (result === 'i32') return () => value;
  return () => 0;
}

type Fn = (...args: number[]) => number | void;

/** proxy-runtime 0.1.8 declares gRPC calls without the initial-metadata (ptr, size) pair. */
function adaptArity(name: string, fn: HostFunction, sig: FuncSignature | undefined): HostFunction {
  const f = fn as unknown as Fn;
  const n = sig?.params.length;
  if (name === 'proxy_grpc_call' && n === 10) {
    return ((a: number, b: number, c: number, d: number, e: number, g: number, msg: number, msgLen: number, timeout: number, ret: number) =>
      f(a, b, c, d, e, g, 0, 0, msg, msgLen, timeout, ret)) as HostFunction;
  }
  if (name === 'proxy_grpc_stream' && n === 7) {
    return ((a: number, b: number, c: number, d: number, e: number, g: number, ret: number) => f(a, b, c, d, e, g, 0, 0, ret)) as HostFunction;
  }
  return fn;
}

export function buildImports(
  module: WebAssembly.Module,
  rt: VmRuntime,
  wasiOut: WasiOutput,
  onFuelExhausted: () => void,
  signatures?: ImportSignatures,
): ImportsResult {
  const env: Record<string, HostFunction> = {
    ...coreHostcalls(rt),
    ...streamHostcalls(rt, rt.abi),
    ...calloutHostcalls(rt),
  };
  const wasi = wasiImports(rt.mem, rt.env, wasiOut);
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  const stubbed: string[] = [];
  for (const imp of WebAssembly.Module.imports(module)) {
    const qualified = `${imp.module}.${imp.name}`;
    if (imp.kind !== 'function') {
      return { ok: false, error: `module imports ${imp.kind} ${qualified}, which the host does not provide` };
    }
    const sig = signatures?.get(qualified);
    let fn: StubFunction | undefined;
    if (imp.module === 'env') {
      const known = env[imp.name];
      if (known !== undefined && availableIn(imp.name, rt.abi)) fn = adaptArity(imp.name, known, sig);
    } else if ((WASI_MODULES as readonly string[]).includes(imp.module)) {
      fn = wasi[imp.name];
      if (fn === undefined) {
        fn = stub(sig, UNKNOWN_WASI_ERRNO);
        stubbed.push(qualified);
      }
    } else if (imp.module === FUEL_IMPORT_MODULE && imp.name === FUEL_IMPORT_NAME) {
      fn = () => onFuelExhausted();
    }
    if (fn === undefined) {
      fn = stub(sig, WasmResult.UNIMPLEMENTED);
      stubbed.push(qualified);
    }
    const ns = (imports[imp.module] ??= {});
    ns[imp.name] = fn;
  }
  return { ok: true, imports, unimplemented: stubbed };
}
