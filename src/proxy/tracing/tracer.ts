// The data plane's tracer: finishes the span of each completed stream whose HCM traces (sampled spans
// only) and hands it to the exporter of its collector, one exporter per distinct collector config, kept
// across config updates (spans already queued still go out). The request path pays nothing here when an
// HCM has no tracing: the connection manager starts no span and the stream ends without one.

import type { Clock } from '../../lib/clock.js';
import type { StatsStore } from '../stats/stats-store.js';
import type { ClusterHandle } from '../upstream/cluster-handle.js';
import type { CompletedStream } from '../http/hcm-env.js';
import { responseFlagsToString } from '../http/response-flags.js';
import { SpanExporter } from './span-exporter.js';
import { finishStreamSpan } from './span.js';

export interface TracerOptions {
  readonly cluster: (name: string) => ClusterHandle | undefined;
  readonly clock: Clock;
  readonly stats: StatsStore;
  /** The bootstrap node's id (node_id tag) and cluster (default service name). */
  readonly nodeId: string;
  readonly nodeCluster: string;
  readonly zone?: string;
  /** The proxy's environment, for `environment` custom tags; absent: their default values. */
  readonly env?: (name: string) => string | undefined;
  readonly flushIntervalMs?: number;
  readonly minFlushSpans?: number;
}

const noEnv = (): undefined => undefined;

export class Tracer {
  readonly #exporters = new Map<string, SpanExporter>();

  constructor(private readonly o: TracerOptions) {}

  /** Finishes and queues the stream's span if it has a sampled one. */
  finish(s: CompletedStream): void {
    const span = s.info.span;
    if (span === undefined || !span.sampled) return;
    const info = s.info;
    const spans = finishStreamSpan(span, {
      request: s.request,
      startMs: info.startMs,
      durationNs: info.endNs > info.startNs ? info.endNs - info.startNs : 0n,
      responseCode: info.responseCode,
      responseFlags: responseFlagsToString(info.flags),
      upstreamCluster: info.upstreamCluster,
      upstreamHost: info.upstreamHost,
      bytesReceived: info.bytesReceived,
      bytesSent: info.bytesSent,
      grpcStatus: info.grpcStatus,
      dynamicMetadata: info.dynamicMetadata,
      nodeId: this.o.nodeId,
      zone: this.o.zone ?? '',
      env: this.o.env ?? noEnv,
    });
    const c = span.config.collector;
    let e = this.#exporters.get(c.key);
    if (e === undefined) {
      e = new SpanExporter(c, {
        cluster: this.o.cluster,
        clock: this.o.clock,
        stats: this.o.stats,
        defaultServiceName: this.o.nodeCluster,
        ...(this.o.flushIntervalMs !== undefined ? { flushIntervalMs: this.o.flushIntervalMs } : {}),
        ...(this.o.minFlushSpans !== undefined ? { minFlushSpans: this.o.minFlushSpans } : {}),
      });
      this.#exporters.set(c.key, e);
    }
    e.add(spans);
  }

  /** Sends queued spans and stops the exporters' timers. */
  close(): void {
    for (const e of this.#exporters.values()) e.close();
    this.#exporters.clear();
  }
}
