// Batches finished spans and sends them to the collector's cluster through the proxy's own upstream (the
// cluster manager's hosts, circuit breakers and pools; upstream/cluster-call.ts): OTLP/HTTP JSON
// (`POST <path>`, `content-type: application/json`) or Zipkin v2 JSON. A batch goes out when
// `minFlushSpans` spans are waiting or when the flush timer fires (Envoy's tracing.opentelemetry.
// min_flush_spans / flush_interval_ms, 5 and 5 s; Isthmus flushes every second so traces show up promptly).
// Exporting never blocks or fails a request: at most `maxBufferedSpans` wait, more are dropped, and a failed
// report drops its spans; both are counted. Stats as Envoy names them under `tracing.opentelemetry.`
// (spans_sent, timer_flushed, http_reports_sent/success/failed) and `tracing.zipkin.` (spans_sent,
// timer_flushed, reports_sent, reports_dropped, reports_skipped_no_cluster), plus `spans_dropped`.

import type { Clock } from '../../lib/clock.js';
import type { StatsStore } from '../stats/stats-store.js';
import type { Counter } from '../stats/metric.js';
import type { ClusterHandle } from '../upstream/cluster-handle.js';
import { callCluster } from '../upstream/cluster-call.js';
import type { HeaderMap } from '../http/headers.js';
import type { CollectorConfig } from './tracing-config.js';
import type { FinishedSpan } from './span.js';
import { otlpTraceRequest } from './otlp-json.js';
import { zipkinSpans } from './zipkin-json.js';

export interface SpanExporterOptions {
  readonly cluster: (name: string) => ClusterHandle | undefined;
  readonly clock: Clock;
  readonly stats: StatsStore;
  /** service.name when the collector config names none (the node's cluster). */
  readonly defaultServiceName: string;
  readonly flushIntervalMs?: number;
  readonly minFlushSpans?: number;
  readonly maxBufferedSpans?: number;
}

interface ExporterStats {
  readonly spansSent: Counter;
  readonly spansDropped: Counter;
  readonly timerFlushed: Counter;
  readonly reportsSent: Counter;
  readonly reportsSuccess: Counter | undefined;
  readonly reportsFailed: Counter;
  readonly skippedNoCluster: Counter | undefined;
}

function statsFor(stats: StatsStore, format: CollectorConfig['format']): ExporterStats {
  if (format === 'otlp') {
    const p = 'tracing.opentelemetry.';
    return {
      spansSent: stats.counter(`${p}spans_sent`),
      spansDropped: stats.counter(`${p}spans_dropped`),
      timerFlushed: stats.counter(`${p}timer_flushed`),
      reportsSent: stats.counter(`${p}http_reports_sent`),
      reportsSuccess: stats.counter(`${p}http_reports_success`),
      reportsFailed: stats.counter(`${p}http_reports_failed`),
      skippedNoCluster: undefined,
    };
  }
  const p = 'tracing.zipkin.';
  return {
    spansSent: stats.counter(`${p}spans_sent`),
    spansDropped: stats.counter(`${p}spans_dropped`),
    timerFlushed: stats.counter(`${p}timer_flushed`),
    reportsSent: stats.counter(`${p}reports_sent`),
    reportsSuccess: undefined,
    reportsFailed: stats.counter(`${p}reports_dropped`),
    skippedNoCluster: stats.counter(`${p}reports_skipped_no_cluster`),
  };
}

export class SpanExporter {
  #buffer: FinishedSpan[] = [];
  #timer: { cancel(): void } | undefined;
  #closed = false;
  readonly #stats: ExporterStats;
  readonly #headers: HeaderMap;
  readonly #serviceName: string;
  readonly #flushMs: number;
  readonly #minFlush: number;
  readonly #max: number;

  constructor(
    readonly collector: CollectorConfig,
    private readonly o: SpanExporterOptions,
  ) {
    this.#stats = statsFor(o.stats, collector.format);
    const h: HeaderMap = { host: collector.authority, 'content-type': 'application/json' };
    for (const [k, v] of collector.headers) h[k] = v;
    this.#headers = h;
    this.#serviceName = collector.serviceName || o.defaultServiceName;
    this.#flushMs = o.flushIntervalMs ?? 1_000;
    this.#minFlush = o.minFlushSpans ?? 5;
    this.#max = o.maxBufferedSpans ?? 1_000;
  }

  /** Queues spans; sends a batch once enough are waiting. Never throws. */
  add(spans: readonly FinishedSpan[]): void {
    if (this.#closed) return;
    for (const s of spans) {
      if (this.#buffer.length >= this.#max) this.#stats.spansDropped.inc();
      else this.#buffer.push(s);
    }
    if (this.#buffer.length >= this.#minFlush) this.flush();
    else if (this.#buffer.length > 0 && this.#timer === undefined) {
      this.#timer = this.o.clock.setTimeout(() => {
        this.#timer = undefined;
        this.#stats.timerFlushed.inc();
        this.flush();
      }, this.#flushMs);
    }
  }

  /** Sends what is waiting now. */
  flush(): void {
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    this.#timer?.cancel();
    this.#timer = undefined;
    const c = this.collector;
    const cluster = this.o.cluster(c.cluster);
    if (cluster === undefined) {
      this.#stats.skippedNoCluster?.inc();
      this.#stats.spansDropped.add(batch.length);
      return;
    }
    const body = Buffer.from(c.format === 'otlp' ? otlpTraceRequest(this.#serviceName, batch) : zipkinSpans(this.#serviceName, batch));
    this.#stats.spansSent.add(batch.length);
    this.#stats.reportsSent.inc();
    try {
      callCluster(cluster, { method: 'POST', path: c.path, headers: { ...this.#headers }, body, timeoutMs: c.timeoutMs }, (r) => {
        if (r.kind === 'response' && r.status >= 200 && r.status < 300) this.#stats.reportsSuccess?.inc();
        else {
          this.#stats.reportsFailed.inc();
          this.#stats.spansDropped.add(batch.length);
        }
      });
    } catch {
      this.#stats.reportsFailed.inc();
      this.#stats.spansDropped.add(batch.length);
    }
  }

  /** Sends what is waiting and stops the timer; later spans are ignored. */
  close(): void {
    this.flush();
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}
