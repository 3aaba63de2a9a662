// The proxy's handle on one plugin: owns the current VM and applies the failure policy when it fails.
// FAIL_CLOSE: the plugin's streams fail (the proxy answers 503). FAIL_OPEN: the plugin is skipped.
// FAIL_RELOAD: a fresh VM is created from the same compiled module — at most one attempt per backoff
// interval (default 1 s, Envoy's ReloadConfig.backoff default) — and shared data survives because it is
// keyed by vm_id, not by VM; until a reload succeeds the plugin's streams fail closed.
// A failed VM is never called again (reference §0.6: a trapped Rust instance stays poisoned).

import { LogLevel } from './abi.js';
import type { FailureReason } from './sandbox.js';
import type { CompiledPlugin } from './compile-plugin.js';
import type { WasmHttpStreamHost, WasmPluginEnv, WasmStreamHost } from './host-types.js';
import type { PluginVmOptions, VmResult } from './plugin-vm.js';
import { PluginVm, wasmStatName } from './plugin-vm.js';
import type { WasmHttpContext, WasmNetworkContext } from './stream-context.js';

/** Istio's WasmPlugin.failStrategy (Envoy's failure_policy FAIL_CLOSED / FAIL_OPEN / FAIL_RELOAD). */
export type FailStrategy = 'FAIL_CLOSE' | 'FAIL_OPEN' | 'FAIL_RELOAD';

/** What the filter gets instead of a context when the plugin cannot run. */
export interface PluginUnavailable {
  readonly kind: 'failed';
  readonly policy: FailStrategy;
  /** True: skip the plugin and let the stream through. False: fail the stream (503 / reset). */
  readonly failOpen: boolean;
  readonly reason: FailureReason | undefined;
}

export interface PluginHandleOptions extends PluginVmOptions {
  readonly failStrategy: FailStrategy;
  /** Minimum interval between reload attempts in ms (default 1000). */
  readonly reloadBackoffMs?: number;
}

export class PluginHandle {
  private current: PluginVm;
  private lastReloadAt = Number.NEGATIVE_INFINITY;
  private closed = false;
  private lastFailure: FailureReason | undefined;

  private constructor(
    private readonly compiled: CompiledPlugin,
    private readonly env: WasmPluginEnv,
    private readonly opts: PluginHandleOptions,
    vm: PluginVm,
  ) {
    this.current = vm;
  }

  /** Starts the first VM; a start or configure failure is a load error whatever the policy. */
  static create(compiled: CompiledPlugin, env: WasmPluginEnv, opts: PluginHandleOptions): VmResult<PluginHandle> {
    let handle: PluginHandle | undefined;
    const vmOpts = PluginHandle.vmOptions(compiled, opts, (r) => handle?.noteFailure(r));
    const vm = PluginVm.create(compiled.module, env, vmOpts);
    if (!vm.ok) return vm;
    handle = new PluginHandle(compiled, env, opts, vm.value);
    return { ok: true, value: handle };
  }

  private static vmOptions(compiled: CompiledPlugin, opts: PluginHandleOptions, onFailure: (r: FailureReason) => void): PluginVmOptions {
    const { failStrategy: _f, reloadBackoffMs: _b, onFailure: outer, ...rest } = opts;
    return {
      ...rest,
      ...(compiled.importSignatures === undefined ? {} : { importSignatures: compiled.importSignatures }),
      onFailure: (r) => {
        onFailure(r);
        outer?.(r);
      },
    };
  }

  private noteFailure(reason: FailureReason): void {
    this.lastFailure = reason;
  }

  get policy(): FailStrategy {
    return this.opts.failStrategy;
  }

  /** The VM serving new streams now (possibly failed). */
  get vm(): PluginVm {
    return this.current;
  }

  /** A healthy VM, reloading one under FAIL_RELOAD if the backoff allows; undefined if none. */
  private healthyVm(): PluginVm | undefined {
    if (this.closed) return undefined;
    if (!this.current.failed) return this.current;
    if (this.opts.failStrategy !== 'FAIL_RELOAD') return undefined;
    const now = this.env.clock.now();
    if (now - this.lastReloadAt < (this.opts.reloadBackoffMs ?? 1000)) return undefined;
    this.lastReloadAt = now;
    const next = PluginVm.create(this.compiled.module, this.env, PluginHandle.vmOptions(this.compiled, this.opts, (r) => this.noteFailure(r)));
    if (!next.ok) {
      this.env.log.log(LogLevel.ERROR, `wasm plugin ${this.env.name}: reload failed: ${next.error}`);
      return undefined;
    }
    this.current.close();
    this.current = next.value;
    this.env.stats.increment(wasmStatName(this.env.name, 'reloads'));
    return this.current;
  }

  private unavailable(): PluginUnavailable {
    const policy = this.opts.failStrategy;
    return { kind: 'failed', policy, failOpen: policy === 'FAIL_OPEN', reason: this.current.failureReason ?? this.lastFailure };
  }

  /** What a stream context whose callback answered 'failed' should do: skip the plugin or fail. */
  get failOpen(): boolean {
    return this.opts.failStrategy === 'FAIL_OPEN';
  }

  httpContext(host: WasmHttpStreamHost): WasmHttpContext | PluginUnavailable {
    const vm = this.healthyVm();
    return vm?.createHttpContext(host) ?? this.unavailable();
  }

  networkContext(host: WasmStreamHost): WasmNetworkContext | PluginUnavailable {
    const vm = this.healthyVm();
    return vm?.createNetworkContext(host) ?? this.unavailable();
  }

  close(): void {
    this.closed = true;
    this.current.close();
  }
}
