// One plugin VM: a WebAssembly instance of a proxy-wasm module with its root context, started and
// configured, serving stream contexts. It owns the sandbox's single guarded call: every call into the
// guest sets the fuel budget, catches traps, CPU-limit and proc_exit, checks the memory cap, and on any
// failure marks the VM failed for good ("poisoned": a Rust instance that trapped traps again, see the
// reference §0.6), counts it in stats and logs it with the plugin's name. Host actions requested during a
// guest call (local reply, continue, close, callout results, queue/tick deliveries) run only after the
// outermost guest call returns, so nothing re-enters a running guest (cpp-host#326).
// Start-up follows cpp-host: _initialize (+ main) or _start; AssemblyScript runs its start section inside
// instantiation; then proxy_on_context_create(root), proxy_on_vm_start, proxy_validate_configuration (if
// exported) and proxy_on_configure.

import type { AbiVersion } from './abi.js';
import { DEFAULT_MAX_MEMORY_PAGES, LogLevel, UNKNOWN_ABI_MESSAGE, detectAbiVersion } from './abi.js';
import { GuestMemory } from './guest-memory.js';
import type { WasmHttpStreamHost, WasmPluginEnv, WasmStreamHost } from './host-types.js';
import { buildImports } from './imports.js';
import type { ImportSignatures } from './import-signatures.js';
import type { FailureReason } from './sandbox.js';
import { CpuLimitExceeded, DEFAULT_CPU_LIMIT_MS, DEFAULT_FUEL_BUDGET, FUEL_GLOBAL_EXPORT, MemoryLimitExceeded, ProcExit, classifyFailure } from './sandbox.js';
import { processSharedData, type SharedDataStore } from './shared-data.js';
import { processSharedQueues, type SharedQueueRegistry } from './shared-queues.js';
import { VmGuestDelivery } from './guest-delivery.js';
import { WasmHttpContext, WasmNetworkContext } from './stream-context.js';
import type { ContextRecord, GuestCaller, GuestFunction } from './vm-runtime.js';
import { VmRuntime } from './vm-runtime.js';
import { WasiOutput } from './wasi.js';

export type { GuestFunction } from './vm-runtime.js';

export interface PluginVmOptions {
  /** Linear memory cap in 64 KiB pages (default 16384 = 1 GiB, cpp-host's limit). */
  readonly maxMemoryPages?: number;
  /** CPU-time limit per callback in ms (needs an instrumented module; default 200). */
  readonly cpuLimitMs?: number;
  /** Fuel per refill for instrumented modules. */
  readonly fuelBudget?: number;
  /** Milliseconds clock used for the CPU limit; defaults to performance.now(). */
  readonly cpuClock?: () => number;
  /** Shared data and queues; default: the process's (in-process, or the primary's in a worker). */
  readonly sharedData?: SharedDataStore;
  readonly sharedQueues?: SharedQueueRegistry;
  /** Function import signatures read from the module bytes (compilePlugin provides them). */
  readonly importSignatures?: ImportSignatures;
  /** Called once when the VM fails after it started (PluginHandle listens). */
  readonly onFailure?: (reason: FailureReason) => void;
}

export type VmResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** `wasm.<plugin>.<stat>`: failures, failures.<kind>, vm_created, reloads, load_errors. */
export function wasmStatName(plugin: string, stat: string): string {
  return `wasm.${plugin}.${stat}`;
}

export class PluginVm implements GuestCaller {
  readonly abi: AbiVersion;
  readonly name: string;
  /** @internal */ readonly rt: VmRuntime;
  private readonly mem = new GuestMemory();
  private readonly wasiOut: WasiOutput;
  private exports: WebAssembly.Exports = {};
  private readonly fnCache = new Map<string, GuestFunction | undefined>();
  private fuel: WebAssembly.Global | undefined;
  private failure: FailureReason | undefined;
  private started = false;
  private depth = 0;
  private callStartMs = 0;
  private draining = false;
  private readonly tasks: Array<() => void> = [];
  private readonly maxBytes: number;
  private readonly cpuLimitMs: number;
  private readonly fuelBudget: number;
  private readonly cpuClock: () => number;

  private constructor(abi: AbiVersion, readonly env: WasmPluginEnv, private readonly opts: PluginVmOptions) {
    this.abi = abi;
    this.name = env.name;
    this.maxBytes = (opts.maxMemoryPages ?? DEFAULT_MAX_MEMORY_PAGES) * 65536;
    this.cpuLimitMs = opts.cpuLimitMs ?? DEFAULT_CPU_LIMIT_MS;
    this.fuelBudget = opts.fuelBudget ?? DEFAULT_FUEL_BUDGET;
    this.cpuClock = opts.cpuClock ?? (() => performance.now());
    this.wasiOut = new WasiOutput(env);
    this.rt = new VmRuntime(abi, env, this.mem, opts.sharedData ?? processSharedData(), opts.sharedQueues ?? processSharedQueues(), new VmGuestDelivery(this));
  }

  /** Instantiates and starts a VM from a compiled module. Errors are load errors (the VM is discarded). */
  static create(module: WebAssembly.Module, env: WasmPluginEnv, opts: PluginVmOptions = {}): VmResult<PluginVm> {
    const abi = detectAbiVersion(WebAssembly.Module.exports(module).map((e) => e.name));
    if (abi === undefined) return { ok: false, error: `plugin ${env.name}: ${UNKNOWN_ABI_MESSAGE}` };
    const vm = new PluginVm(abi, env, opts);
    const error = vm.start(module);
    if (error !== undefined) {
      vm.rt.shutdown();
      vm.wasiOut.flush();
      env.stats.increment(wasmStatName(env.name, 'load_errors'));
      return { ok: false, error: `plugin ${env.name}: ${error}` };
    }
    env.stats.increment(wasmStatName(env.name, 'vm_created'));
    return { ok: true, value: vm };
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  get failureReason(): FailureReason | undefined {
    return this.failure;
  }

  /** True while guest code runs (host calls made now must not re-enter the guest). */
  get busy(): boolean {
    return this.depth > 0;
  }

  private start(module: WebAssembly.Module): string | undefined {
    const built = buildImports(module, this.rt, this.wasiOut, () => this.onFuelExhausted(), this.opts.importSignatures);
    if (!built.ok) return built.error;
    if (built.unimplemented.length > 0 && LogLevel.DEBUG >= this.env.log.level()) {
      this.env.log.log(LogLevel.DEBUG, `wasm plugin ${this.name}: imports answered as unimplemented: ${built.unimplemented.join(', ')}`);
    }
    let instance: WebAssembly.Instance | undefined;
    // The start section (AssemblyScript top-level code) runs inside the constructor: guard it too.
    const err = this.guardRaw('instantiate', () => {
      instance = new WebAssembly.Instance(module, built.imports);
    });
    if (err !== undefined || instance === undefined) return `instantiation failed: ${err ?? 'no instance'}`;
    this.exports = instance.exports;
    const memory = this.exports['memory'];
    if (!(memory instanceof WebAssembly.Memory)) return 'module does not export its memory';
    const alloc = this.fn('proxy_on_memory_allocate') ?? this.fn('malloc');
    this.mem.attach(memory, alloc === undefined ? undefined : (size) => Number(alloc(size)));
    const fuel = this.exports[FUEL_GLOBAL_EXPORT];
    if (fuel instanceof WebAssembly.Global) this.fuel = fuel;

    const init = this.fn('_initialize');
    const steps: Array<[string, GuestFunction, Array<number>]> = [];
    if (init !== undefined) {
      steps.push(['_initialize', init, []]);
      const main = this.fn('main');
      if (main !== undefined) steps.push(['main', main, [0, 0]]);
    } else {
      const startFn = this.fn('_start');
      if (startFn !== undefined) steps.push(['_start', startFn, []]);
    }
    for (const [name, f, args] of steps) {
      const e = this.guardRaw(name, () => void f(...args), true);
      if (e !== undefined) return `${name} failed: ${e}`;
    }
    const root = this.rt.rootContextId;
    const create = this.fn('proxy_on_context_create');
    if (create !== undefined) {
      const e = this.guardRaw('proxy_on_context_create', () => void create(root, 0));
      if (e !== undefined) return `proxy_on_context_create failed: ${e}`;
    }
    const phases: Array<[string, 'vm' | 'plugin', Uint8Array]> = [
      ['proxy_on_vm_start', 'vm', this.env.vmConfig],
      ['proxy_validate_configuration', 'plugin', this.env.pluginConfig],
      ['proxy_on_configure', 'plugin', this.env.pluginConfig],
    ];
    for (const [name, type, bytes] of phases) {
      const f = this.fn(name);
      if (f === undefined) continue;
      this.rt.scope = { configuration: { type, bytes } };
      this.rt.currentContextId = root;
      let ok = 0;
      const e = this.guardRaw(name, () => {
        ok = Number(f(root, bytes.byteLength));
      });
      this.rt.scope = {};
      this.rt.currentContextId = 0;
      if (e !== undefined) return `${name} failed: ${e}`;
      if (ok === 0) return `${name} returned false`;
    }
    this.started = true;
    this.drain();
    return this.failure === undefined ? undefined : `${this.failure.during} failed: ${this.failure.message}`;
  }

  /** A guest call during start-up: answers an error message instead of poisoning a running VM. */
  private guardRaw(during: string, body: () => void, exitZeroOk = false): string | undefined {
    this.depth++;
    this.callStartMs = this.cpuClock();
    this.refuel();
    try {
      body();
      this.checkMemory();
      return undefined;
    } catch (e) {
      if (exitZeroOk && e instanceof ProcExit && e.code === 0) return undefined;
      const r = classifyFailure(e, during);
      return `${r.kind}: ${r.message}`;
    } finally {
      this.depth--;
      this.rt.afterCall.length = 0;
    }
  }

  /** @internal A guest export by name (cached); undefined when not exported or not a function. */
  fn(name: string): GuestFunction | undefined {
    if (this.fnCache.has(name)) return this.fnCache.get(name);
    const f = this.exports[name];
    const g = typeof f === 'function' ? (f as unknown as GuestFunction) : undefined;
    this.fnCache.set(name, g);
    return g;
  }

  /**
   * @internal The guarded call. Runs `f` with `args` as the outermost guest call with `contextId` current,
   * then runs deferred host actions and queued deliveries. Undefined when the VM failed (now or before).
   */
  call(during: string, f: GuestFunction, args: Array<number | bigint>, contextId: number): number | undefined {
    if (this.failure !== undefined || this.rt.closed) return undefined;
    if (this.depth > 0) throw new Error(`re-entrant guest call to ${during}`);
    this.depth = 1;
    this.rt.currentContextId = contextId;
    this.rt.effectiveContextId = 0;
    this.callStartMs = this.cpuClock();
    this.refuel();
    let result: number | undefined;
    try {
      const r = f(...args);
      result = typeof r === 'number' ? r : r === undefined ? 0 : Number(r);
      this.checkMemory();
    } catch (e) {
      this.fail(classifyFailure(e, during));
      result = undefined;
    } finally {
      this.depth = 0;
      this.rt.currentContextId = 0;
      this.rt.effectiveContextId = 0;
    }
    if (this.failure !== undefined) {
      this.rt.afterCall.length = 0;
      return undefined;
    }
    this.drain();
    return result;
  }

  /** @internal Runs `task` now if the guest is idle, else after the current guest call. */
  post(task: () => void): void {
    if (this.depth > 0 || this.draining) this.tasks.push(task);
    else {
      task();
    }
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const action = this.rt.afterCall.shift();
        if (action !== undefined) {
          action();
          continue;
        }
        const task = this.tasks.shift();
        if (task === undefined) break;
        if (this.failure === undefined) task();
      }
    } finally {
      this.draining = false;
    }
  }

  private refuel(): void {
    if (this.fuel !== undefined) this.fuel.value = this.fuelBudget;
  }

  private onFuelExhausted(): void {
    if (this.cpuClock() - this.callStartMs > this.cpuLimitMs) throw new CpuLimitExceeded(this.cpuLimitMs);
    this.refuel();
  }

  private checkMemory(): void {
    const bytes = this.mem.byteLength();
    if (bytes > this.maxBytes) throw new MemoryLimitExceeded(bytes, this.maxBytes);
  }

  private fail(reason: FailureReason): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    this.tasks.length = 0;
    this.rt.shutdown();
    this.wasiOut.flush();
    this.env.stats.increment(wasmStatName(this.name, 'failures'));
    this.env.stats.increment(wasmStatName(this.name, `failures.${reason.kind}`));
    this.env.log.log(LogLevel.ERROR, `wasm plugin ${this.name} failed: ${reason.kind} in ${reason.during}: ${reason.message}`);
    if (this.started) this.opts.onFailure?.(reason);
  }

  /** A new HTTP stream context, or undefined when the VM failed (apply the fail policy). */
  createHttpContext(host: WasmHttpStreamHost): WasmHttpContext | undefined {
    const rec = this.createContext('http', host);
    return rec === undefined ? undefined : new WasmHttpContext(this, rec);
  }

  /** A new TCP connection context, or undefined when the VM failed. */
  createNetworkContext(host: WasmStreamHost): WasmNetworkContext | undefined {
    const rec = this.createContext('network', host);
    return rec === undefined ? undefined : new WasmNetworkContext(this, rec);
  }

  private createContext(kind: 'http' | 'network', host: WasmStreamHost): ContextRecord | undefined {
    if (this.failure !== undefined || this.rt.closed) return undefined;
    const rec = this.rt.newContext(kind, host);
    const create = this.fn('proxy_on_context_create');
    if (create === undefined) return rec;
    const args = [rec.id, this.rt.rootContextId];
    if (this.depth > 0) {
      // Created from inside a host call: create it in the guest once idle; its callbacks queue behind.
      this.post(() => void this.call('proxy_on_context_create', create, args, rec.id));
      return rec;
    }
    if (this.call('proxy_on_context_create', create, args, rec.id) === undefined) {
      this.rt.deleteContext(rec);
      return undefined;
    }
    return rec;
  }

  /** Stops timers and callouts and releases queues; the VM answers nothing afterwards. */
  close(): void {
    this.rt.shutdown();
    this.wasiOut.flush();
  }
}
