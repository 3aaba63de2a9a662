// WASI preview1 for plugins, registered under both `wasi_snapshot_preview1` and `wasi_unstable` (AS
// proxy-runtime and Emscripten use the latter), as cpp-host does (src/wasm.cc). What a proxy plugin needs
// is real: fd_write to stdout/stderr becomes info/error logs (line-buffered per VM), clocks, random bytes,
// environ from the plugin's vmConfig env only (never the proxy's own environment), empty args,
// sched_yield, proc_exit (throws ProcExit: the VM treats it as a failure). Every other preview1 function
// exists so modules link (go-sdk#251), answering BADF for fd operations and ENOTCAPABLE (76) otherwise.

import { LogLevel, RANDOM_GET_MAX_BYTES, WasiErrno } from './abi.js';
import type { GuestMemory } from './guest-memory.js';
import { encodeUtf8 } from './guest-memory.js';
import type { WasmPluginEnv } from './host-types.js';
import { ProcExit } from './sandbox.js';

export const WASI_MODULES = ['wasi_snapshot_preview1', 'wasi_unstable'] as const;

/** Host functions as the import object holds them. i64 parameters arrive as bigint. */
export type HostFunction = (...args: never[]) => number | void;

/** The full preview1 function list (cpp-host FOR_ALL_WASI_FUNCTIONS); those not implemented are stubs. */
const PREVIEW1 = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
  'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
  'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'random_get', 'sched_yield', 'sock_accept',
  'sock_recv', 'sock_send', 'sock_shutdown',
] as const;

/** Per-VM line buffers for stdout/stderr. */
export class WasiOutput {
  private readonly pending = new Map<number, string>();
  private readonly decoder = new TextDecoder();

  constructor(private readonly env: WasmPluginEnv) {}

  write(fd: 1 | 2, bytes: Uint8Array): void {
    let text = (this.pending.get(fd) ?? '') + this.decoder.decode(bytes);
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      this.emit(fd, text.slice(0, nl));
      text = text.slice(nl + 1);
      nl = text.indexOf('\n');
    }
    // Bound a never-terminated line so a plugin cannot grow host memory through stdout.
    if (text.length > 64 * 1024) {
      this.emit(fd, text);
      text = '';
    }
    this.pending.set(fd, text);
  }

  flush(): void {
    for (const [fd, text] of this.pending) if (text !== '') this.emit(fd as 1 | 2, text);
    this.pending.clear();
  }

  private emit(fd: 1 | 2, line: string): void {
    const level = fd === 1 ? LogLevel.INFO : LogLevel.ERROR;
    if (level >= this.env.log.level()) this.env.log.log(level, line.endsWith('\r') ? line.slice(0, -1) : line);
  }
}

const FD_OPS = new Set<string>(PREVIEW1.filter((n) => n.startsWith('fd_')));

export function wasiImports(mem: GuestMemory, env: WasmPluginEnv, out: WasiOutput): Record<string, HostFunction> {
  const monotonic = env.monotonicNs ?? (() => process.hrtime.bigint());
  const fillRandom = env.randomBytes ?? ((b: Uint8Array) => void crypto.getRandomValues(b));
  const envStrings = env.envVars.map(([k, v]) => encodeUtf8(`${k}=${v}\0`));
  const envBytes = envStrings.reduce((n, s) => n + s.byteLength, 0);

  const impl: Record<string, HostFunction> = {
    fd_write(fd: number, iovs: number, iovsLen: number, nwritten: number): number {
      if (fd !== 1 && fd !== 2) return WasiErrno.BADF;
      let total = 0;
      const n = iovsLen >>> 0;
      if (!mem.inBounds(iovs, n * 8)) return WasiErrno.FAULT;
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const ptr = mem.readU32(iovs + i * 8) as number;
        const len = mem.readU32(iovs + i * 8 + 4) as number;
        const bytes = mem.copy(ptr, len);
        if (bytes === undefined) return WasiErrno.FAULT;
        chunks.push(bytes);
        total += bytes.byteLength;
      }
      if (!mem.writeU32(nwritten, total)) return WasiErrno.FAULT;
      for (const c of chunks) out.write(fd, c);
      return WasiErrno.SUCCESS;
    },
    fd_fdstat_get(fd: number, statPtr: number): number {
      if (fd > 2) return WasiErrno.BADF;
      // filetype CHARACTER_DEVICE (2), no flags, no rights: enough for runtimes probing stdio.
      const stat = new Uint8Array(24);
      stat[0] = 2;
      return mem.writeBytes(statPtr, stat) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },
    clock_time_get(id: number, _precision: bigint, retPtr: number): number {
      let t: bigint;
      if (id === 0) t = BigInt(Math.round(env.clock.now())) * 1_000_000n;
      else if (id === 1) t = monotonic();
      else return WasiErrno.NOTSUP;
      return mem.writeU64(retPtr, t) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },
    clock_res_get(id: number, retPtr: number): number {
      if (id !== 0 && id !== 1) return WasiErrno.NOTSUP;
      return mem.writeU64(retPtr, id === 0 ? 1_000_000n : 1n) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },
    random_get(buf: number, len: number): number {
      const n = len >>> 0;
      if (n > RANDOM_GET_MAX_BYTES) return WasiErrno.INVAL;
      if (!mem.inBounds(buf, n)) return WasiErrno.FAULT;
      const bytes = new Uint8Array(n);
      fillRandom(bytes);
      return mem.writeBytes(buf, bytes) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },
    environ_sizes_get(countPtr: number, sizePtr: number): number {
      if (!mem.writeU32(countPtr, envStrings.length) || !mem.writeU32(sizePtr, envBytes)) return WasiErrno.FAULT;
      return WasiErrno.SUCCESS;
    },
    environ_get(arrayPtr: number, bufPtr: number): number {
      if (!mem.inBounds(arrayPtr, envStrings.length * 4) || !mem.inBounds(bufPtr, envBytes)) return WasiErrno.FAULT;
      let p = bufPtr >>> 0;
      for (let i = 0; i < envStrings.length; i++) {
        const s = envStrings[i] as Uint8Array;
        mem.writeU32((arrayPtr >>> 0) + i * 4, p);
        mem.writeBytes(p, s);
        p += s.byteLength;
      }
      return WasiErrno.SUCCESS;
    },
    args_sizes_get(argcPtr: number, sizePtr: number): number {
      if (!mem.writeU32(argcPtr, 0) || !mem.writeU32(sizePtr, 0)) return WasiErrno.FAULT;
      return WasiErrno.SUCCESS;
    },
    args_get(): number {
      return WasiErrno.SUCCESS;
    },
    sched_yield(): number {
      return WasiErrno.SUCCESS;
    },
    proc_exit(code: number): void {
      throw new ProcExit(code >>> 0);
    },
  };
  for (const name of PREVIEW1) {
    if (impl[name] !== undefined) continue;
    const errno = FD_OPS.has(name) ? WasiErrno.BADF : WasiErrno.NOTCAPABLE;
    impl[name] = () => errno;
  }
  return impl;
}

/** The errno for a WASI function outside preview1 that a module imports anyway. */
export const UNKNOWN_WASI_ERRNO = WasiErrno.NOSYS;
