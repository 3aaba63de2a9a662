// Where formatted access log lines go: a stream (stdout, a file) written in batches, as Envoy's
// AccessLogFileImpl does (source/common/access_log/access_log_manager_impl.cc): lines are appended to a
// buffer, which is written when it reaches 64 KiB or when the flush timer (1 s) fires, never once per line.
// If the stream pushes back (write() returns false) lines keep buffering until 'drain', up to a cap beyond
// which they are dropped and counted, so a stuck stdout cannot grow the proxy's memory without bound.
// Stats, when a scope is given, are Envoy's `access_log_file.*`: write_buffered, write_completed,
// write_failed, flushed_by_timer, and the gauge write_total_buffered (bytes waiting).

import type { Clock } from '../../../lib/clock.js';
import type { Counter, Gauge } from '../../stats/metric.js';
import type { StatsScope } from '../../stats/stats-store.js';

/** The part of a Writable the sink uses (process.stdout and fs.WriteStream fit). */
export interface LineWritable {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

export interface AccessLogSinkOptions {
  readonly clock: Clock;
  /** Envoy's file_flush_interval; default 1000 ms. */
  readonly flushIntervalMs?: number;
  /** Buffer size that triggers an immediate write; default 64 KiB (Envoy's min_flush_size). */
  readonly minFlushBytes?: number;
  /** Most bytes held while the stream is blocked; further lines are dropped. Default 16 MiB. */
  readonly maxBufferedBytes?: number;
  /** Scope for the `access_log_file.*` stats, usually `store.scope('access_log_file')`. */
  readonly stats?: StatsScope;
}

interface SinkStats {
  readonly writeBuffered: Counter;
  readonly writeCompleted: Counter;
  readonly writeFailed: Counter;
  readonly flushedByTimer: Counter;
  readonly totalBuffered: Gauge;
}

export class AccessLogSink {
  private readonly clock: Clock;
  private readonly flushIntervalMs: number;
  private readonly minFlushBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly stats: SinkStats | undefined;
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: { cancel(): void } | undefined = undefined;
  private blocked = false;
  private closed = false;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly stream: LineWritable,
    options: AccessLogSinkOptions,
  ) {
    this.clock = options.clock;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.minFlushBytes = options.minFlushBytes ?? 64 * 1024;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    const s = options.stats;
    this.stats =
      s === undefined
        ? undefined
        : {
            writeBuffered: s.counter('write_buffered'),
            writeCompleted: s.counter('write_completed'),
            writeFailed: s.counter('write_failed'),
            flushedByTimer: s.counter('flushed_by_timer'),
            totalBuffered: s.gauge('write_total_buffered'),
          };
  }

  /** Queues one formatted line (formatters already end it with `\n`). */
  log(line: string): void {
    if (this.closed || (this.blocked && this.pendingBytes + line.length > this.maxBufferedBytes)) {
      this.stats?.writeFailed.inc();
      return;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.stats !== undefined) {
      this.stats.writeBuffered.inc();
      this.stats.totalBuffered.add(line.length);
    }
    if (this.pendingBytes >= this.minFlushBytes) this.flush();
    else if (this.timer === undefined) this.timer = this.clock.setTimeout(() => this.onTimer(), this.flushIntervalMs);
  }

  /** Writes everything buffered now, unless the stream is blocked (then it is written on 'drain'). */
  flush(): void {
    if (this.timer !== undefined) {
      this.timer.cancel();
      this.timer = undefined;
    }
    if (this.blocked || this.pending.length === 0) return;
    const chunk = this.pending.length === 1 ? (this.pending[0] as string) : this.pending.join('');
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const ok = this.stream.write(chunk);
    if (this.stats !== undefined) {
      this.stats.writeCompleted.inc();
      this.stats.totalBuffered.sub(bytes);
    }
    if (!ok) {
      this.blocked = true;
      this.stream.once('drain', () => this.onDrain());
    }
  }

  /** Flushes and stops accepting lines; resolves once the stream has taken everything. */
  close(): Promise<void> {
    this.flush();
    this.closed = true;
    if (!this.blocked) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.pending.length > 0 && !this.blocked) this.stats?.flushedByTimer.inc();
    this.flush();
  }

  private onDrain(): void {
    this.blocked = false;
    this.flush();
    if (!this.blocked) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }
}
