// The proxy's Wasm plugins, one entry per plugin configuration (WasmFilterConfig.key): the entry fetches
// the module (a local file, inline bytes, or a remote `http(s)://` / `oci://` module through the module
// fetcher, playing istio-agent's part), compiles it once in the sandbox and starts it under its failure
// policy. Listeners that name the same configuration share the entry; a configuration no listener names
// any more is closed (its VMs stop their timers). A module that cannot be fetched or started never blocks
// other plugins or listeners: its entry is `failed` and is retried after a backoff, and meanwhile the
// filter applies the failure policy to that plugin's own traffic.

import { readFile } from 'node:fs/promises';
import type { FailStrategy, PluginHandle } from '../../wasm/plugin-handle.js';
import type { ModuleFetcher } from '../../wasm/fetch/module-fetcher.js';
import type { WasmFailurePolicy, WasmFilterConfig } from './config.js';
import type { WasmProxyDeps } from './plugin-env.js';

/**
 * The host (compiler, VMs, the proxy's plugin env) is loaded with the first plugin: a proxy without Wasm
 * plugins never pays for its code in memory.
 */
async function loadHost() {
  const [compile, handle, env] = await Promise.all([import('../../wasm/compile-plugin.js'), import('../../wasm/plugin-handle.js'), import('./plugin-env.js')]);
  return { compilePlugin: compile.compilePlugin, PluginHandle: handle.PluginHandle, createPluginEnv: env.createPluginEnv };
}

/** `wasm.<plugin>.<stat>`, as the host names its counters (plugin-vm.ts wasmStatName). */
function statName(plugin: string, stat: string): string {
  return `wasm.${plugin}.${stat}`;
}

export type PluginState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'ready'; readonly handle: PluginHandle }
  | { readonly kind: 'failed'; readonly error: string; readonly at: number };

export interface WasmRegistryOptions extends WasmProxyDeps {
  /** Remote modules; undefined: a remote module is a load error naming the missing cache. */
  readonly fetcher: ModuleFetcher | undefined;
  /** Per-callback CPU limit in ms (default: the host's, 200). */
  readonly cpuLimitMs?: number;
  /** Linear memory cap per VM in 64 KiB pages (default: the host's, 1 GiB). */
  readonly maxMemoryPages?: number;
}

const RETRY_MIN_MS = 2_000;
const RETRY_MAX_MS = 60_000;

function strategy(p: WasmFailurePolicy): FailStrategy {
  return p === 'FAIL_CLOSED' ? 'FAIL_CLOSE' : p;
}

export class PluginEntry {
  state: PluginState = { kind: 'loading' };
  #waiters: (() => void)[] = [];
  #closed = false;
  #retryMs = RETRY_MIN_MS;

  constructor(
    readonly config: WasmFilterConfig,
    private readonly o: WasmRegistryOptions,
  ) {
    void this.#load();
  }

  /** Calls `f` once the entry is no longer loading (at once if it is not). */
  whenSettled(f: () => void): void {
    if (this.state.kind !== 'loading') f();
    else this.#waiters.push(f);
  }

  /** A failed entry whose backoff has passed loads again; true when it did. */
  retryIfDue(): boolean {
    const st = this.state;
    if (st.kind !== 'failed' || this.o.clock.now() - st.at < this.#retryMs) return false;
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
    this.state = { kind: 'loading' };
    void this.#load();
    return true;
  }

  close(): void {
    this.#closed = true;
    if (this.state.kind === 'ready') this.state.handle.close();
  }

  async #bytes(): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; error: string }> {
    const c = this.config.code;
    if (c.kind === 'inline') return { ok: true, bytes: c.bytes };
    if (c.kind === 'file') {
      try {
        return { ok: true, bytes: new Uint8Array(await readFile(c.path)) };
      } catch (e) {
        return { ok: false, error: `cannot read Wasm module ${c.path}: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
    if (this.o.fetcher === undefined) return { ok: false, error: `cannot fetch Wasm module ${c.url}: this proxy has no module cache` };
    const r = await this.o.fetcher.fetch({
      url: c.url,
      ...(c.sha256 !== '' ? { sha256: c.sha256 } : {}),
      ...(c.pullPolicy !== undefined ? { pullPolicy: c.pullPolicy } : {}),
      ...(c.pullSecret !== undefined ? { pullSecret: c.pullSecret } : {}),
      resourceName: this.config.name,
    });
    if (!r.ok) this.o.stats.counter(statName(this.config.name, 'fetch_failures')).inc();
    return r.ok ? { ok: true, bytes: r.bytes } : { ok: false, error: r.error };
  }

  async #load(): Promise<void> {
    const cfg = this.config;
    const b = await this.#bytes();
    let state: PluginState;
    if (!b.ok) state = { kind: 'failed', error: b.error, at: this.o.clock.now() };
    else {
      const { compilePlugin, PluginHandle, createPluginEnv } = await loadHost();
      const compiled = await compilePlugin(b.bytes, this.o.maxMemoryPages !== undefined ? { maxMemoryPages: this.o.maxMemoryPages } : {});
      if (!compiled.ok) state = { kind: 'failed', error: `plugin ${cfg.name}: ${compiled.error}`, at: this.o.clock.now() };
      else {
        const h = PluginHandle.create(compiled.value, createPluginEnv(cfg, this.o), {
          failStrategy: strategy(cfg.failurePolicy),
          ...(this.o.cpuLimitMs !== undefined ? { cpuLimitMs: this.o.cpuLimitMs } : {}),
          ...(this.o.maxMemoryPages !== undefined ? { maxMemoryPages: this.o.maxMemoryPages } : {}),
        });
        state = h.ok ? { kind: 'ready', handle: h.value } : { kind: 'failed', error: h.error, at: this.o.clock.now() };
      }
    }
    if (this.#closed) {
      if (state.kind === 'ready') state.handle.close();
      return;
    }
    if (state.kind === 'failed') this.o.logger.error(`wasm plugin ${cfg.name} is not running: ${state.error}`, { failurePolicy: cfg.failurePolicy });
    else this.o.logger.info(`wasm plugin ${cfg.name} started`, { rootId: cfg.rootId });
    this.state = state;
    const ws = this.#waiters;
    this.#waiters = [];
    for (const f of ws) f();
  }
}

export class WasmPluginRegistry {
  readonly #entries = new Map<string, PluginEntry>();

  constructor(private readonly o: WasmRegistryOptions) {}

  /** The entry for `config`, started now if it is new. */
  entry(config: WasmFilterConfig): PluginEntry {
    let e = this.#entries.get(config.key);
    if (e === undefined) {
      e = new PluginEntry(config, this.o);
      this.#entries.set(config.key, e);
    }
    return e;
  }

  /** Starts the plugins of a new config and closes those it no longer names. */
  retain(configs: Iterable<WasmFilterConfig>): void {
    const keep = new Set<string>();
    for (const c of configs) {
      keep.add(c.key);
      this.entry(c);
    }
    for (const [k, e] of this.#entries) {
      if (keep.has(k)) continue;
      e.close();
      this.#entries.delete(k);
    }
  }

  /** Resolves once no plugin is loading (tests, readiness). */
  async settled(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((e) => new Promise<void>((r) => e.whenSettled(r))));
  }

  entries(): readonly PluginEntry[] {
    return [...this.#entries.values()];
  }

  close(): void {
    for (const e of this.#entries.values()) e.close();
    this.#entries.clear();
  }
}
