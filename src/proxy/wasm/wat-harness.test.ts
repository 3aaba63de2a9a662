// Test support (no tests of its own): builds small proxy-wasm modules from WAT with wabt, with a bump
// allocator and a `call_<hostcall>` trampoline per imported hostcall so tests can call any hostcall with
// any arguments (garbage pointers included) from a chosen context, and read the guest's memory back.

import type { AbiVersion } from './abi.js';
import type { PluginVm } from './plugin-vm.js';

import wabtInit from 'wabt';

let wabtPromise: ReturnType<typeof wabtInit> | undefined;

export async function watToBytes(src: string): Promise<Uint8Array> {
  wabtPromise ??= wabtInit();
  const wabt = await wabtPromise;
  const m = wabt.parseWat('t.wat', src, { bulk_memory: true });
  const { buffer } = m.toBinary({});
  m.destroy();
  return buffer;
}

/** Parameter lists of the hostcalls tests call through trampolines ('j' = i64). Result is i32. */
export const HOSTCALLS: Record<string, string> = {
  proxy_log: 'iii',
  proxy_get_header_map_value: 'iiiii',
  proxy_add_header_map_value: 'iiiii',
  proxy_replace_header_map_value: 'iiiii',
  proxy_remove_header_map_value: 'iii',
  proxy_get_header_map_pairs: 'iii',
  proxy_get_header_map_size: 'ii',
  proxy_set_header_map_pairs: 'iii',
  proxy_get_buffer_bytes: 'iiiii',
  proxy_get_buffer_status: 'iii',
  proxy_set_buffer_bytes: 'iiiii',
  proxy_send_local_response: 'iiiiiiii',
  proxy_continue_stream: 'i',
  proxy_close_stream: 'i',
  proxy_get_property: 'iiii',
  proxy_set_property: 'iiii',
  proxy_http_call: 'iiiiiiiiii',
  proxy_set_effective_context: 'i',
  proxy_set_shared_data: 'iiiii',
  proxy_get_shared_data: 'iiiii',
  proxy_register_shared_queue: 'iii',
  proxy_resolve_shared_queue: 'iiiii',
  proxy_enqueue_shared_queue: 'iii',
  proxy_dequeue_shared_queue: 'iii',
  proxy_define_metric: 'iiii',
  proxy_increment_metric: 'ij',
  proxy_record_metric: 'ij',
  proxy_get_metric: 'ii',
  proxy_set_tick_period_milliseconds: 'i',
  proxy_get_current_time_nanoseconds: 'i',
  proxy_get_log_level: 'i',
  proxy_call_foreign_function: 'iiiiii',
  proxy_done: '',
  proxy_get_configuration: 'ii',
  proxy_unknown_future_call: 'i',
};

export const WASI_CALLS: Record<string, string> = {
  environ_sizes_get: 'ii',
  environ_get: 'ii',
  fd_write: 'iiii',
  random_get: 'ii',
  clock_time_get: 'iji',
  args_sizes_get: 'ii',
  poll_oneoff: 'iiii',
};

const t = (c: string): string => (c === 'j' ? 'i64' : 'i32');

export interface ModuleSpec {
  readonly abi?: AbiVersion | 'none';
  /** Hostcalls to import with trampolines (default: all of HOSTCALLS valid for the ABI). */
  readonly hostcalls?: readonly string[];
  readonly wasi?: readonly string[];
  /** Extra WAT module fields (exports such as proxy_on_request_headers). */
  readonly body?: string;
  readonly memoryPages?: string;
  readonly extraImports?: string;
}

export async function buildModule(spec: ModuleSpec = {}): Promise<Uint8Array> {
  const abi = spec.abi ?? '0.2.1';
  const names = spec.hostcalls ?? Object.keys(HOSTCALLS);
  const imports: string[] = [];
  const tramps: string[] = [];
  const add = (mod: string, name: string, sig: string, prefix: string): void => {
    const params = [...sig].map(t).join(' ');
    imports.push(`(import "${mod}" "${name}" (func $${prefix}${name} (param ${params}) (result i32)))`);
    const gets = [...sig].map((_, i) => `local.get ${i}`).join(' ');
    tramps.push(`(func (export "call_${name}") (param ${params}) (result i32) ${gets} call $${prefix}${name})`);
  };
  for (const n of names) add('env', n, HOSTCALLS[n] ?? '', '');
  for (const n of spec.wasi ?? []) add('wasi_snapshot_preview1', n, WASI_CALLS[n] ?? '', 'wasi_');
  const marker = abi === 'none' ? '' : `(func (export "proxy_abi_version_${abi.replaceAll('.', '_')}"))`;
  return watToBytes(`(module
    ${imports.join('\n')}
    ${spec.extraImports ?? ''}
    (memory (export "memory") ${spec.memoryPages ?? '2'})
    (global $heap (mut i32) (i32.const 32768))
    (func (export "malloc") (param $n i32) (result i32) (local $p i32)
      global.get $heap local.set $p
      global.get $heap local.get $n i32.add global.set $heap
      local.get $p)
    ${marker}
    ${tramps.join('\n')}
    ${spec.body ?? ''}
  )`);
}

/** Calls hostcall `name` through its trampoline with `ctx` as the current context. Undefined if the VM failed. */
export function hostcall(vm: PluginVm, ctx: number, name: string, ...args: Array<number | bigint>): number | undefined {
  const f = vm.fn(`call_${name}`);
  if (f === undefined) throw new Error(`no trampoline for ${name}`);
  return vm.call(name, f, args, ctx);
}

const enc = new TextEncoder();

/** Writes a string at `ptr` in guest memory; answers [ptr, length]. */
export function put(vm: PluginVm, ptr: number, s: string | Uint8Array): [number, number] {
  const b = typeof s === 'string' ? enc.encode(s) : s;
  vm.rt.mem.writeBytes(ptr, b);
  return [ptr, b.byteLength];
}

/** Reads the (ptr, size) out-params at `at` and `at+4` and decodes the bytes they point to. */
export function outBytes(vm: PluginVm, at: number): Uint8Array {
  const p = vm.rt.mem.readU32(at) ?? 0;
  const n = vm.rt.mem.readU32(at + 4) ?? 0;
  return vm.rt.mem.copy(p, n) ?? new Uint8Array(0);
}

export function outString(vm: PluginVm, at: number): string {
  return new TextDecoder().decode(outBytes(vm, at));
}

export function u32(vm: PluginVm, at: number): number | undefined {
  return vm.rt.mem.readU32(at);
}
