// The primary's workers: N processes forked through Node's cluster module, each in a fixed slot 0..N-1
// (Envoy's `worker_<id>`). The pool relays every accepted config to them (the tables that changed, as
// wire tables; all of them to a worker that just said hello), knows which slots have applied the initial
// config (readiness), gathers their stats on request, and restarts a worker that exits unexpectedly in the
// same slot, after a backoff when it keeps dying young. Counters of a worker that died are kept from its
// last snapshot, so totals do not go backwards by more than what it counted since it was last asked.
//
// Listening sockets: cluster.SCHED_NONE, so the primary creates each listening socket once and every worker
// accepts on it, the kernel choosing which. This is Envoy's default (no connection balancing between
// workers: https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/listeners/listeners), and it
// keeps the primary out of the accept path. Measured on Linux with 2 workers (wrk, 32 connections):
// with keep-alive both policies served ~33-38k req/s; with a connection per request SCHED_NONE served
// 6.3-6.7k req/s against 2.8-3.3k for SCHED_RR (Node's default, where the primary accepts and passes each
// connection over IPC); 200 new connections split between 94/106 and 135/65 (RR: 100/100).
// With a Wasm shared-store server, each worker is forked with one more stdio entry, the socket it asks the
// primary's shared data and queues on (wasm-shared-channel.ts); the pool serves it and forwards queue
// readiness to the worker that owns the queue.

import cluster, { type Worker } from 'node:cluster';
import { Socket } from 'node:net';
import type { Logger } from '../../lib/logger.js';
import { StatsStore } from '../stats/stats-store.js';
import { parseFromWorker, type StatsSnapshot, type ToWorker, type WireIdentity, type WireOutlierResults, type WorkerSettings } from './ipc-protocol.js';
import { countersOnly, mergeSnapshot, snapshotStats } from './stats-merge.js';
import { TableEncoder, type TableSource } from './table-encoder.js';
import { WASM_SHARED_STDIO_FD, WORKER_STDIO } from './wasm-shared-channel.js';
import type { WasmSharedServer } from './wasm-shared-server.js';

export interface WorkerPoolOptions {
  readonly size: number;
  /** The worker entry file (worker-main). */
  readonly exec: string;
  readonly settings: Omit<WorkerSettings, 'slot'>;
  /** The primary's ADS client. */
  readonly source: TableSource & { initialized(): boolean };
  readonly logger: Logger;
  /** How long /stats waits for a worker's snapshot before leaving it out. */
  readonly statsTimeoutMs?: number;
  /** The proxy's Wasm shared data and queues; workers reach them on fd WASM_SHARED_STDIO_FD (settings.wasm.sharedStoreFd). */
  readonly shared?: Pick<WasmSharedServer, 'serve'>;
  /** Messages a worker that just said hello gets after its first config (the state the primary keeps for all). */
  readonly greeting?: () => readonly ToWorker[];
  /** A worker's request outcomes for the primary's outlier detectors (outlier-hub.ts). */
  readonly onOutlierResults?: (results: readonly WireOutlierResults[]) => void;
  /** A worker's cluster carried its first traffic (for the primary's health checkers). */
  readonly onHealthTraffic?: (cluster: string) => void;
  /** A worker saw x-envoy-immediate-health-check-fail from a host (for the primary's health checkers). */
  readonly onHealthFail?: (cluster: string, host: string) => void;
}

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  /** The worker said hello: it receives config. */
  greeted: boolean;
  /** It applied a config sent once the primary was initialized. */
  ready: boolean;
  startedAt: number;
  backoffMs: number;
  restart: NodeJS.Timeout | undefined;
  last: StatsSnapshot | undefined;
  readonly pending: Map<number, (s: StatsSnapshot | undefined) => void>;
  exited: Promise<void>;
}

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** A worker that lived this long is restarted at once. */
const STABLE_MS = 10_000;

export class WorkerPool {
  readonly #slots: Slot[];
  readonly #encoder: TableEncoder;
  readonly #retired = new StatsStore();
  #generation = 0;
  #initialized = false;
  #logLevel: string;
  #identity: WireIdentity | undefined;
  #statsId = 0;
  #stopping = false;

  constructor(private readonly o: WorkerPoolOptions) {
    this.#encoder = new TableEncoder(o.source);
    this.#logLevel = o.settings.logLevel;
    this.#slots = Array.from({ length: o.size }, (_, index) => ({
      index,
      worker: undefined,
      greeted: false,
      ready: false,
      startedAt: 0,
      backoffMs: MIN_BACKOFF_MS,
      restart: undefined,
      last: undefined,
      pending: new Map(),
      exited: Promise.resolve(),
    }));
  }

  start(): void {
    // Frozen by the cluster module at the first setupPrimary/fork of the process.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: this.o.exec, args: [], serialization: 'advanced', ...(this.o.shared !== undefined ? { stdio: WORKER_STDIO } : {}) });
    for (const s of this.#slots) this.#fork(s);
  }

  /** Process ids of the workers running now, by slot. */
  pids(): number[] {
    return this.#slots.flatMap((s) => (s.worker?.process.pid !== undefined ? [s.worker.process.pid] : []));
  }

  /** Every slot has applied a config sent once the primary was initialized. */
  allApplied(): boolean {
    return this.#slots.every((s) => s.ready);
  }

  /** Sends what changed in the primary's tables to every worker (call after each xDS update). */
  publish(): void {
    const tables = this.#encoder.changed();
    const initialized = this.o.source.initialized();
    if (tables.length === 0 && initialized === this.#initialized) return;
    this.#initialized = initialized;
    this.#generation++;
    const m: ToWorker = { t: 'config', generation: this.#generation, initialized, tables };
    for (const s of this.#slots) if (s.greeted) this.#send(s, m);
  }

  /** Hands the workload certificate to every worker, now and to any that starts later. */
  setIdentity(identity: WireIdentity): void {
    this.#identity = identity;
    for (const s of this.#slots) if (s.greeted) this.#send(s, { t: 'identity', identity });
  }

  /** Sends a message to every worker that has said hello. */
  broadcast(m: ToWorker): void {
    for (const s of this.#slots) if (s.greeted) this.#send(s, m);
  }

  setLogLevel(level: string): void {
    this.#logLevel = level;
    for (const s of this.#slots) if (s.greeted) this.#send(s, { t: 'log-level', level });
  }

  /** Every worker's stats, and what exited workers had counted, merged into one new store. */
  async stats(): Promise<StatsStore> {
    const id = ++this.#statsId;
    const snapshots = await Promise.all(this.#slots.map((s) => this.#askStats(s, id)));
    const merged = StatsStore.istio();
    mergeSnapshot(merged, snapshotStats(this.#retired));
    for (const snap of snapshots) if (snap !== undefined) mergeSnapshot(merged, snap);
    return merged;
  }

  /** Tells every worker to drain and waits for them to exit; stragglers are killed after the deadline. */
  async drain(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    for (const s of this.#slots) {
      if (s.restart !== undefined) clearTimeout(s.restart);
      // A worker that has not said hello may not hear the message yet; it has no config to drain either.
      if (s.worker !== undefined) s.greeted ? this.#send(s, { t: 'drain', timeoutMs }) : s.worker.process.kill('SIGKILL');
    }
    const all = Promise.all(this.#slots.map((s) => s.exited));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs + 5_000)));
    if ((await Promise.race([all, late])) === 'late') {
      for (const s of this.#slots) s.worker?.process.kill('SIGKILL');
      await all;
    }
    clearTimeout(timer);
  }

  #send(s: Slot, m: ToWorker): void {
    const w = s.worker;
    if (w === undefined || !w.isConnected()) return;
    w.send(m, (e: Error | null) => {
      if (e !== null) this.o.logger.warn('cannot reach a worker', { worker: s.index, error: e.message });
    });
  }

  #askStats(s: Slot, id: number): Promise<StatsSnapshot | undefined> {
    if (!s.greeted || s.worker === undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        s.pending.delete(id);
        resolve(undefined);
      }, this.o.statsTimeoutMs ?? 2_000);
      s.pending.set(id, (snap) => {
        clearTimeout(timer);
        s.pending.delete(id);
        resolve(snap);
      });
      this.#send(s, { t: 'stats', id });
    });
  }

  #fork(s: Slot): void {
    s.restart = undefined;
    s.greeted = false;
    s.startedAt = Date.now();
    const w = cluster.fork();
    s.worker = w;
    s.exited = new Promise((resolve) => w.once('exit', () => resolve()));
    const channel = w.process.stdio[WASM_SHARED_STDIO_FD];
    if (this.o.shared !== undefined && channel instanceof Socket) {
      this.o.shared.serve(channel, (token) => {
        if (s.worker === w) this.#send(s, { t: 'queue-ready', token });
      });
    }
    w.on('message', (raw: unknown) => {
      const m = parseFromWorker(raw);
      if (m === undefined) {
        this.o.logger.warn('a worker sent a message the primary does not understand; ignored', { worker: s.index });
        return;
      }
      switch (m.t) {
        case 'hello':
          s.greeted = true;
          this.#send(s, { t: 'init', settings: { ...this.o.settings, logLevel: this.#logLevel, slot: s.index } });
          if (this.#identity !== undefined) this.#send(s, { t: 'identity', identity: this.#identity });
          this.#send(s, { t: 'config', generation: this.#generation, initialized: this.#initialized, tables: this.#encoder.all() });
          for (const extra of this.o.greeting?.() ?? []) this.#send(s, extra);
          return;
        case 'applied':
          if (m.initialized) s.ready = true;
          return;
        case 'stats':
          s.last = m.snapshot;
          s.pending.get(m.id)?.(m.snapshot);
          return;
        case 'outlier-results':
          this.o.onOutlierResults?.(m.results);
          return;
        case 'health-traffic':
          this.o.onHealthTraffic?.(m.cluster);
          return;
        case 'health-fail':
          this.o.onHealthFail?.(m.cluster, m.host);
          return;
      }
    });
    w.on('error', (e: Error) => this.o.logger.warn('worker error', { worker: s.index, error: e.message }));
    w.once('exit', (code: number | null, signal: string | null) => this.#exited(s, w, code, signal));
  }

  #exited(s: Slot, w: Worker, code: number | null, signal: string | null): void {
    if (s.worker !== w) return;
    s.worker = undefined;
    s.greeted = false;
    for (const resolve of [...s.pending.values()]) resolve(undefined);
    if (s.last !== undefined) mergeSnapshot(this.#retired, countersOnly(s.last));
    s.last = undefined;
    if (this.#stopping) return;
    const lived = Date.now() - s.startedAt;
    const delay = lived >= STABLE_MS ? 0 : s.backoffMs;
    s.backoffMs = lived >= STABLE_MS ? MIN_BACKOFF_MS : Math.min(s.backoffMs * 2, MAX_BACKOFF_MS);
    this.o.logger.error('worker exited; starting another in its place', { worker: s.index, pid: w.process.pid, code, signal, restartInMs: delay });
    s.restart = setTimeout(() => this.#fork(s), delay);
  }
}
