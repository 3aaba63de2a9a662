// The control plane's metrics service in one piece: a SeriesStore, the scraper filling it from the
// proxies `targets` lists, and the /api/metrics handler over both. The caller (the control plane)
// says which proxies exist; this module knows nothing of xDS.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { createMetricsApi } from './metrics-api.js';
import { MetricsScraper, type ScrapeTarget } from './scraper.js';
import { SeriesStore } from './series-store.js';

export interface ProxyMetricsOptions {
  readonly targets: () => readonly ScrapeTarget[];
  readonly clock: Clock;
  /** Default 5000. */
  readonly intervalMs?: number;
  /** Default 1000. */
  readonly timeoutMs?: number;
  /** Default 10 min. */
  readonly retentionMs?: number;
  /** Default 20,000. */
  readonly maxSeries?: number;
  readonly logger?: Logger;
}

export interface ProxyMetrics {
  readonly store: SeriesStore;
  readonly scraper: MetricsScraper;
  /** Answers /api/metrics* and returns true; false for any other path. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => boolean;
  close(): Promise<void>;
}

/** Creates the store and starts scraping at once. */
export function startProxyMetrics(o: ProxyMetricsOptions): ProxyMetrics {
  const intervalMs = o.intervalMs ?? 5000;
  const retentionMs = o.retentionMs ?? 10 * 60_000;
  const store = new SeriesStore({
    retentionMs,
    ...(o.maxSeries !== undefined ? { maxSeries: o.maxSeries } : {}),
    // Room for every scrape in the retention, plus slack for a round that started early.
    maxSamplesPerSeries: Math.max(2, Math.ceil(retentionMs / intervalMs) + 2),
  });
  const scraper = new MetricsScraper({
    store,
    targets: o.targets,
    clock: o.clock,
    intervalMs,
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
  });
  scraper.start();
  return { store, scraper, handle: createMetricsApi({ store, clock: o.clock, scraper }), close: () => scraper.stop() };
}
