// Scrapes every connected proxy's Prometheus endpoint into a SeriesStore, as a Prometheus server would,
// so the dashboard and the CLI answer without one. Every `intervalMs` (5 s by default) one round GETs
// each target's URL at once, each with its own timeout (1 s), keeps only the metric names `keep`
// accepts (istio_* by default), records each answer at the time its request started, then prunes the
// store. Rounds never overlap: the next starts `intervalMs` after the previous one started, or as soon
// as it ends when it ran longer. A target that fails or times out is skipped for that round (its last
// error is in status()); one that disappears is no longer asked and its series age out of the store.
// It owns no knowledge of the xDS server: `targets` says whom to scrape.

import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { silentLogger } from '../../lib/logger.js';
import { parsePrometheusText } from './prometheus-text.js';
import type { SeriesStore } from './series-store.js';

export const DEFAULT_SCRAPE_INTERVAL_MS = 5000;
export const DEFAULT_SCRAPE_TIMEOUT_MS = 1000;

export interface ScrapeTarget {
  /** The proxy's id (`pod.namespace`); it labels the series scraped from it. */
  readonly id: string;
  /** `http://host:port/stats/prometheus` */
  readonly url: string;
}

export interface TargetStatus {
  readonly id: string;
  readonly url: string;
  /** ISO time of the last attempt. */
  readonly lastScrape: string;
  readonly lastDurationMs: number;
  readonly health: 'up' | 'down';
  readonly lastError?: string;
  /** Samples kept from the last successful scrape. */
  readonly samples: number;
}

export type FetchText = (url: string, signal: AbortSignal) => Promise<string>;

export interface MetricsScraperOptions {
  readonly store: SeriesStore;
  readonly targets: () => readonly ScrapeTarget[];
  readonly clock: Clock;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  /** Which metric names to keep; default: istio_*. */
  readonly keep?: (name: string) => boolean;
  /** GETs a URL's body; default: global fetch, an HTTP status other than 200 is an error. */
  readonly fetchText?: FetchText;
  readonly logger?: Logger;
}

const defaultFetchText: FetchText = async (url, signal) => {
  const res = await fetch(url, { signal });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return body;
};

export class MetricsScraper {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly #o: MetricsScraperOptions;
  readonly #keep: (name: string) => boolean;
  readonly #fetchText: FetchText;
  readonly #logger: Logger;
  readonly #status = new Map<string, TargetStatus>();
  #timer: { cancel(): void } | undefined;
  #round: Promise<void> | undefined;
  #running = false;

  constructor(o: MetricsScraperOptions) {
    this.#o = o;
    this.intervalMs = o.intervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS;
    if (!(this.intervalMs > 0)) throw new RangeError(`scrape interval must be > 0 ms, got ${this.intervalMs}`);
    this.#keep = o.keep ?? ((name) => name.startsWith('istio_'));
    this.#fetchText = o.fetchText ?? defaultFetchText;
    this.#logger = o.logger ?? silentLogger;
  }

  /** Starts scraping now and every interval after. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#tick();
  }

  /** Stops scheduling rounds and waits for the one in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#round;
  }

  /** One round over the current targets (what start() runs each interval). */
  async scrapeOnce(): Promise<void> {
    const targets = this.#o.targets();
    const ids = new Set(targets.map((t) => t.id));
    for (const id of this.#status.keys()) if (!ids.has(id)) this.#status.delete(id);
    await Promise.all(targets.map((t) => this.#scrape(t)));
    this.#o.store.prune(this.#o.clock.now());
  }

  /** The last scrape of each current target, by id. */
  status(): TargetStatus[] {
    return [...this.#status.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  #tick(): void {
    const started = this.#o.clock.now();
    this.#round = this.scrapeOnce()
      .catch((e: unknown) => this.#logger.warn('metrics scrape round failed', { error: e instanceof Error ? e.message : String(e) }))
      .finally(() => {
        this.#round = undefined;
        if (!this.#running) return;
        const wait = Math.max(0, started + this.intervalMs - this.#o.clock.now());
        this.#timer = this.#o.clock.setTimeout(() => this.#tick(), wait);
      });
  }

  async #scrape(target: ScrapeTarget): Promise<void> {
    const { clock, store } = this.#o;
    const started = clock.now();
    const abort = new AbortController();
    const timer = clock.setTimeout(() => abort.abort(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
    const base = { id: target.id, url: target.url, lastScrape: new Date(started).toISOString() };
    try {
      const text = await this.#fetchText(target.url, abort.signal);
      const parsed = parsePrometheusText(text, this.#keep);
      const r = store.ingest(target.id, parsed, started);
      if (r.dropped > 0) this.#logger.warn('metrics store full: new series dropped', { proxy: target.id, dropped: r.dropped, maxSeries: store.maxSeries });
      if (parsed.issues.length > 0) this.#logger.debug('unparsable metric lines skipped', { proxy: target.id, first: `${parsed.issues[0]?.line}: ${parsed.issues[0]?.message}`, count: parsed.issues.length });
      this.#status.set(target.id, { ...base, lastDurationMs: clock.now() - started, health: 'up', samples: parsed.samples.length });
    } catch (e) {
      // fetch rejects with the abort reason itself on a timeout; otherwise its cause says what failed.
      const timedOut = abort.signal.aborted && (e === abort.signal.reason || (e instanceof Error && e.name === 'AbortError'));
      const reason = timedOut ? `timed out after ${this.timeoutMs} ms` : e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      this.#status.set(target.id, { ...base, lastDurationMs: clock.now() - started, health: 'down', lastError: reason, samples: 0 });
    } finally {
      timer.cancel();
    }
  }
}
