// The mutable per-VM state that hostcalls read and write: contexts and which one is current/effective,
// the data visible only inside particular callbacks (configuration, callout responses, gRPC messages),
// metric ids, queued work that must wait until the guest returns, and the tick timer.
// It does not call into the guest itself: PluginVm supplies `guest` (the delivery side) and runs the
// queued work after each outermost guest call, so no host action ever re-enters a running guest.

import type { AbiVersion, MetricType } from './abi.js';
import { WasmResult } from './abi.js';
import type { GuestMemory } from './guest-memory.js';
import type { WasmGrpcHandlers, WasmMetric, WasmPluginEnv, WasmStreamHost } from './host-types.js';
import type { HeaderPairs } from './pairs.js';
import type { SharedDataStore } from './shared-data.js';
import type { QueueReadyListener, SharedQueueRegistry } from './shared-queues.js';

export type ContextKind = 'root' | 'http' | 'network';

export interface ContextRecord {
  readonly id: number;
  readonly kind: ContextKind;
  /** The stream's host; undefined for the root context. */
  readonly host: WasmStreamHost | undefined;
  /** proxy_on_done answered false: the plugin will call proxy_done. */
  awaitingDone: boolean;
  deleted: boolean;
  /** Callout tokens started while this context was effective; cancelled when it is deleted (created on first use). */
  callouts: Set<number> | undefined;
}

/** Data readable only while a particular callback runs. */
export interface CallbackScope {
  readonly configuration?: { readonly type: 'vm' | 'plugin'; readonly bytes: Uint8Array };
  readonly callResponse?: { readonly headers: HeaderPairs; readonly body: Uint8Array; readonly trailers: HeaderPairs };
  readonly grpcInitialMetadata?: HeaderPairs;
  readonly grpcTrailingMetadata?: HeaderPairs;
  readonly grpcMessage?: Uint8Array;
}

export interface PendingCallout {
  readonly token: number;
  readonly owner: ContextRecord;
  cancel(): void;
  /** Present for gRPC streams. */
  send?(message: Uint8Array, endStream: boolean): WasmResult;
  close?(): void;
}

/** How the runtime asks the VM to deliver events to the guest (queued while the guest runs). */
export interface GuestDelivery {
  httpCallResponse(token: number, response: { headers: HeaderPairs; body: Uint8Array; trailers: HeaderPairs } | undefined): void;
  grpcEvent(token: number, handlers: keyof WasmGrpcHandlers, a: HeaderPairs | Uint8Array | number, message?: string): void;
  queueReady(queueId: number): void;
  tick(): void;
  /** proxy_done for a context whose proxy_on_done answered false: finish it (proxy_on_delete). */
  contextDone(rec: ContextRecord): void;
}

export type GuestFunction = (...args: Array<number | bigint>) => unknown;

/**
 * The guarded-call side of a VM (implemented by PluginVm), as stream contexts and event delivery use it.
 * Declared here so those files do not depend on plugin-vm.ts.
 */
export interface GuestCaller {
  readonly rt: VmRuntime;
  /** True once the VM failed: it is never called again. */
  readonly failed: boolean;
  /** True while guest code runs. */
  readonly busy: boolean;
  /** A guest export by name, undefined when not exported. */
  fn(name: string): GuestFunction | undefined;
  /** The single guarded call; undefined when the VM failed (now or before). */
  call(during: string, f: GuestFunction, args: Array<number | bigint>, contextId: number): number | undefined;
  /** Runs `task` now if the guest is idle, else after the current guest call. */
  post(task: () => void): void;
}

export class VmRuntime {
  readonly contexts = new Map<number, ContextRecord>();
  readonly rootContextId = 1;
  private nextContextId = 2;
  /** The context whose callback is running (0 outside callbacks). */
  currentContextId = 0;
  /** Set by proxy_set_effective_context; 0 = the current context. Reset on every outermost callback. */
  effectiveContextId = 0;
  /** During a callout callback: the stream that started the callout (fallback target of stream ops). */
  calloutOwner: ContextRecord | undefined;
  scope: CallbackScope = {};
  /** proxy_get_status: the last gRPC close status seen by the plugin. */
  status: { code: number; message: string } = { code: 0, message: '' };
  readonly callouts = new Map<number, PendingCallout>();
  private nextToken = 1;
  readonly metrics = new Map<number, { readonly type: MetricType; readonly metric: WasmMetric }>();
  readonly metricIds = new Map<string, number>();
  private nextMetricId = 1;
  /** Host actions (local reply, continue, close) to run after the outermost guest call returns. */
  readonly afterCall: Array<() => void> = [];
  /**
   * The stream callback running now (kept while its deferred work drains) and its direction: a
   * continue_stream for it turns its 'pause' into 'continue' instead of resuming through the host.
   */
  running: { readonly rec: ContextRecord; readonly direction: number; continued: boolean } | undefined;
  tickPeriodMs = 0;
  tickTimer: { cancel(): void } | undefined;
  readonly queueListener: QueueReadyListener;
  closed = false;

  constructor(
    readonly abi: AbiVersion,
    readonly env: WasmPluginEnv,
    readonly mem: GuestMemory,
    readonly sharedData: SharedDataStore,
    readonly queues: SharedQueueRegistry,
    readonly guest: GuestDelivery,
  ) {
    this.contexts.set(this.rootContextId, { id: this.rootContextId, kind: 'root', host: undefined, awaitingDone: false, deleted: false, callouts: undefined });
    this.queueListener = (id) => this.guest.queueReady(id);
  }

  newContext(kind: ContextKind, host: WasmStreamHost | undefined): ContextRecord {
    const rec: ContextRecord = { id: this.nextContextId++, kind, host, awaitingDone: false, deleted: false, callouts: undefined };
    this.contexts.set(rec.id, rec);
    return rec;
  }

  deleteContext(rec: ContextRecord): void {
    rec.deleted = true;
    this.contexts.delete(rec.id);
    const tokens = rec.callouts;
    if (tokens === undefined) return;
    rec.callouts = undefined;
    for (const token of tokens) {
      const c = this.callouts.get(token);
      this.callouts.delete(token);
      c?.cancel();
    }
  }

  /** The context hostcalls act on: the effective one if set, else the current one. */
  activeContext(): ContextRecord | undefined {
    return this.contexts.get(this.effectiveContextId !== 0 ? this.effectiveContextId : this.currentContextId);
  }

  /**
   * The stream that stream operations (maps, buffers, local reply, continue) act on. A root context is
   * effective inside callout callbacks unless the SDK switched (cpp-sdk#188, envoy#39797 silently drop the
   * operation then); we route to the stream that started the callout instead, if it is still alive.
   */
  streamTarget(): ContextRecord | undefined {
    const ctx = this.activeContext();
    if (ctx !== undefined && ctx.host !== undefined) return ctx;
    if (ctx?.kind === 'root' && this.calloutOwner !== undefined && !this.calloutOwner.deleted) return this.calloutOwner;
    return undefined;
  }

  /** The context that owns a new callout: the stream target if any, else the active (root) context. */
  calloutOwnerForNewCall(): ContextRecord {
    return this.streamTarget() ?? this.activeContext() ?? (this.contexts.get(this.rootContextId) as ContextRecord);
  }

  newToken(): number {
    const t = this.nextToken;
    this.nextToken = this.nextToken >= 0x7fffffff ? 1 : this.nextToken + 1;
    return t;
  }

  addCallout(c: PendingCallout): void {
    this.callouts.set(c.token, c);
    (c.owner.callouts ??= new Set()).add(c.token);
  }

  /** Removes a finished callout; answers its owner when the callback should still be delivered. */
  takeCallout(token: number, keep = false): PendingCallout | undefined {
    const c = this.callouts.get(token);
    if (c === undefined) return undefined;
    if (!keep) {
      this.callouts.delete(token);
      c.owner.callouts?.delete(token);
    }
    return c;
  }

  defineMetric(type: MetricType, name: string): number | undefined {
    const key = `${type}\0${name}`;
    const existing = this.metricIds.get(key);
    if (existing !== undefined) return existing;
    const metric = this.env.metrics.define(type, name);
    if (metric === undefined) return undefined;
    const id = this.nextMetricId++;
    this.metricIds.set(key, id);
    this.metrics.set(id, { type, metric });
    return id;
  }

  setTick(periodMs: number): void {
    this.tickTimer?.cancel();
    this.tickTimer = undefined;
    this.tickPeriodMs = periodMs;
    if (periodMs > 0 && !this.closed) this.scheduleTick();
  }

  private scheduleTick(): void {
    const period = this.tickPeriodMs;
    this.tickTimer = this.env.clock.setTimeout(() => {
      this.tickTimer = undefined;
      if (this.closed || this.tickPeriodMs !== period) return;
      this.scheduleTick();
      this.guest.tick();
    }, period);
  }

  /** Stops timers, cancels callouts and drops queue ownership (VM closed or failed). */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.tickTimer?.cancel();
    this.tickTimer = undefined;
    for (const c of this.callouts.values()) c.cancel();
    this.callouts.clear();
    this.queues.release(this.queueListener);
  }
}
