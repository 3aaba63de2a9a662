// Turns module bytes into a compiled, sandboxed WebAssembly.Module once per plugin (parse once, run
// many): checks the ABI marker, rewrites the module for the CPU and memory limits (instrument.ts), and
// compiles. PluginHandle re-creates VMs from the same compiled module on FAIL_RELOAD.

import type { AbiVersion } from './abi.js';
import { DEFAULT_MAX_MEMORY_PAGES, UNKNOWN_ABI_MESSAGE, detectAbiVersion } from './abi.js';
import { instrumentModule } from './instrument.js';
import type { ImportSignatures } from './import-signatures.js';
import { readImportSignatures } from './import-signatures.js';
import type { WasmPluginEnv } from './host-types.js';
import type { PluginVmOptions, VmResult } from './plugin-vm.js';
import { PluginVm } from './plugin-vm.js';

export interface CompiledPlugin {
  readonly module: WebAssembly.Module;
  readonly abi: AbiVersion;
  /** False only when compiled with `instrument: false` (tests, trusted modules): no CPU limit then. */
  readonly instrumented: boolean;
  /** Function import signatures of the original module (undefined if unreadable). */
  readonly importSignatures: ImportSignatures | undefined;
}

export interface CompileOptions {
  /** Linear memory cap in 64 KiB pages (default 16384 = 1 GiB). */
  readonly maxMemoryPages?: number;
  /** Rewrite for fuel and memory limits (default true). */
  readonly instrument?: boolean;
}

export async function compilePlugin(bytes: Uint8Array, opts: CompileOptions = {}): Promise<VmResult<CompiledPlugin>> {
  let code = bytes;
  const instrument = opts.instrument ?? true;
  if (instrument) {
    const r = instrumentModule(bytes, { maxMemoryPages: opts.maxMemoryPages ?? DEFAULT_MAX_MEMORY_PAGES });
    if (!r.ok) return { ok: false, error: `invalid module: ${r.error}` };
    code = r.bytes;
  }
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(code);
  } catch (e) {
    return { ok: false, error: `invalid module: ${e instanceof Error ? e.message : String(e)}` };
  }
  const abi = detectAbiVersion(WebAssembly.Module.exports(module).map((e) => e.name));
  if (abi === undefined) return { ok: false, error: UNKNOWN_ABI_MESSAGE };
  return { ok: true, value: { module, abi, instrumented: instrument, importSignatures: readImportSignatures(bytes) } };
}

/**
 * Compiles (unless given a module already) and starts one VM: what `isthmus wasm run` needs.
 * A WebAssembly.Module passed in is used as is (not instrumented again).
 */
export async function loadPluginVm(
  source: Uint8Array | WebAssembly.Module,
  env: WasmPluginEnv,
  opts: PluginVmOptions & CompileOptions = {},
): Promise<VmResult<PluginVm>> {
  if (source instanceof WebAssembly.Module) return PluginVm.create(source, env, opts);
  const compiled = await compilePlugin(source, opts);
  if (!compiled.ok) return { ok: false, error: `plugin ${env.name}: ${compiled.error}` };
  const sigs = compiled.value.importSignatures;
  return PluginVm.create(compiled.value.module, env, sigs === undefined ? opts : { ...opts, importSignatures: sigs });
}
