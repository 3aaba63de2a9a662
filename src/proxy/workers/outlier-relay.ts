// A worker's side of outlier detection with `--concurrency N`. Envoy runs one outlier detector per cluster
// on its main thread: workers report each request's outcome to it, and an ejection applies to every worker
// (source/common/upstream/outlier_detection_impl.cc: the host monitors' counters are shared atomics, the
// ejection runs on the main dispatcher and reaches the workers as a host health change). Worker processes
// share no memory, so the primary runs the detectors (outlier-hub.ts) and each worker:
// - records every outcome per host as runs (`[kind, count, ...]`: under steady traffic one run of successes
//   per host), and sends what it recorded to the primary at most every `flushMs` (10 ms by default);
// - balances over the ejected set the primary last sent for the cluster (one set per cluster name, kept
//   across a cluster's rebuild until the primary sends the new detector's).
// So consecutive 5xx count across workers (two failures on two workers are two in a row) and a host is
// ejected once, for the whole proxy. What differs from Envoy's shared counters: the primary sees each worker's
// batch whole, so outcomes on different workers within one batch interval are not interleaved in the order
// they happened, and an ejection reaches the workers a batch and one IPC hop after the failure that caused it.
// The relay counts no outlier stats: the primary does, once (the merged /stats adds its store to the workers').

import type { HostOutlierState, OutlierResult } from '../upstream/outlier-detector.js';
import { OUTLIER_RESULT_KINDS, type WireOutlierResults } from './ipc-protocol.js';

/** A kind's number on the wire: its index in OUTLIER_RESULT_KINDS. */
const CODE = {} as Record<OutlierResult, number>;
OUTLIER_RESULT_KINDS.forEach((k, i) => (CODE[k] = i));

/** A cluster's ejected hosts as the primary last sent them, and a version that changes with them. */
interface ClusterState {
  ejected: ReadonlySet<string>;
  version: number;
}

/** One cluster's view: records outcomes into the relay's batch, answers from the primary's ejected set. */
class RelayedOutlier implements HostOutlierState {
  constructor(
    private readonly relay: OutlierRelay,
    private readonly log: Map<string, number[]>,
    private readonly state: ClusterState,
  ) {}

  /** The primary watches the hosts the xDS tables give it. */
  setHosts(): void {}

  reportResult(hostKey: string, kind: OutlierResult): void {
    const code = CODE[kind];
    const runs = this.log.get(hostKey);
    if (runs === undefined) this.log.set(hostKey, [code, 1]);
    else if (runs[runs.length - 2] === code) runs[runs.length - 1] = (runs[runs.length - 1] as number) + 1;
    else runs.push(code, 1);
    this.relay.armFlush();
  }

  isEjected(hostKey: string): boolean {
    return this.state.ejected.has(hostKey);
  }

  version(): number {
    return this.state.version;
  }

  close(): void {}
}

export class OutlierRelay {
  /** Outcomes not yet sent, per cluster name and host. */
  readonly #logs = new Map<string, Map<string, number[]>>();
  readonly #states = new Map<string, ClusterState>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (results: WireOutlierResults[]) => void,
    private readonly flushMs = 10,
  ) {}

  /** UpstreamDeps.outlier: the view of cluster `name` (every rebuild of the cluster gets the same state). */
  readonly forCluster = (cluster: { readonly name: string }): HostOutlierState => {
    let log = this.#logs.get(cluster.name);
    if (log === undefined) {
      log = new Map();
      this.#logs.set(cluster.name, log);
    }
    return new RelayedOutlier(this, log, this.#state(cluster.name));
  };

  /** The primary's ejected set for a cluster. */
  apply(cluster: string, ejected: readonly string[]): void {
    const s = this.#state(cluster);
    s.ejected = new Set(ejected);
    s.version++;
  }

  /** @internal a recorded outcome: sends the batch after flushMs unless a send is already due. */
  armFlush(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.flush(), this.flushMs);
    this.#timer.unref();
  }

  /** Sends every outcome recorded so far. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const results: WireOutlierResults[] = [];
    for (const [cluster, log] of this.#logs) {
      for (const [host, runs] of log) results.push({ cluster, host, runs });
      log.clear();
    }
    if (results.length > 0) this.send(results);
  }

  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #state(cluster: string): ClusterState {
    let s = this.#states.get(cluster);
    if (s === undefined) {
      s = { ejected: new Set(), version: 0 };
      this.#states.set(cluster, s);
    }
    return s;
  }
}
