// Where formatted access log lines go: a stream (stdout, a file) written in batches, as Envoy's
// AccessLogFileImpl does (source/common/access_log/access_log_manager_impl.cc): lines are appended to a
// buffer, which is written when it reaches 64 KiB or when the flush timer (1 s) fires, never once per line.
// If the stream pushes back (write() returns false) lines keep buffering until 'drain', up to a cap beyond
// which they are dropped and counted, so a stuck stdout cannot grow the proxy's memory without bound.
// Stats, when a scope is given, are Envoy's `access_log_file.*`: write_buffered, write_completed,
// write_failed, flushed_by_timer, and the gauge write_total_buffered (bytes waiting).
// Each line is UTF-8 encoded into the buffer as it arrives, so the formatter's string (a tree of
// concatenations, several times the line's size) dies young instead of waiting up to a second in a list:
// at 1,000 requests/s the waiting strings were most of what the proxy promoted to V8's old space. The
// buffers are reused once the stream has written them (two at most are kept): a new one per batch
// would live long enough to reach the old space, and its memory would only be freed by a full GC.

import type { Clock } from '../../../lib/clock.js';
import type { Counter, Gauge } from '../../stats/metric.js';
import type { StatsScope } from '../../stats/stats-store.js';

/** The part of a Writable the sink uses (process.stdout and fs.WriteStream fit). */
export interface LineWritable {
  /** The sink does not touch `chunk` again until `done` is called (once it is written, or failed). */
  write(chunk: Uint8Array, done: (error?: Error | null) => void): boolean;
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

/** Room past the flush size, so a line that crosses it still fits and a batch is usually one buffer. */
const SLACK_BYTES = 16 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit. */
const MAX_UTF8_PER_UNIT = 3;
/** Written buffers kept for reuse: one being filled while one is written. */
const MAX_SPARE = 2;

interface Filled {
  readonly buf: Buffer;
  readonly used: number;
}

export class AccessLogSink {
  private readonly clock: Clock;
  private readonly flushIntervalMs: number;
  private readonly minFlushBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly stats: SinkStats | undefined;
  /** Size of the buffers lines are encoded into (larger ones, for a larger line, are not reused). */
  private readonly bufferBytes: number;
  /** Filled buffers waiting for the next write, oldest first (more than one only when a line overflowed one). */
  private sealed: Filled[] = [];
  /** Buffers the stream has finished with. */
  private readonly spare: Buffer[] = [];
  /** The buffer lines are encoded into; `used` bytes of it are taken. */
  private current: Buffer | undefined = undefined;
  private used = 0;
  /** Bytes in `sealed` and `current` together. */
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
    this.bufferBytes = this.minFlushBytes + SLACK_BYTES;
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
    if (this.closed || (this.blocked && this.pendingBytes + Buffer.byteLength(line) > this.maxBufferedBytes)) {
      this.stats?.writeFailed.inc();
      return;
    }
    const bytes = this.append(line);
    this.pendingBytes += bytes;
    if (this.stats !== undefined) {
      this.stats.writeBuffered.inc();
      this.stats.totalBuffered.add(bytes);
    }
    if (this.pendingBytes >= this.minFlushBytes) this.flush();
    else if (this.timer === undefined) this.timer = this.clock.setTimeout(() => this.onTimer(), this.flushIntervalMs);
  }

  /** Encodes the line after what is buffered; returns its size in bytes. */
  private append(line: string): number {
    let buf = this.current;
    const room = buf === undefined ? 0 : buf.length - this.used;
    // The exact size is only worked out when the worst case might not fit.
    if (buf === undefined || line.length * MAX_UTF8_PER_UNIT > room) {
      const size = Buffer.byteLength(line);
      if (buf === undefined || size > room) {
        this.seal();
        buf = (size <= this.bufferBytes ? this.spare.pop() : undefined) ?? Buffer.allocUnsafe(Math.max(this.bufferBytes, size));
        this.current = buf;
      }
    }
    const n = buf.write(line, this.used);
    this.used += n;
    return n;
  }

  /** Moves the filled part of the current buffer to `sealed`. */
  private seal(): void {
    if (this.current !== undefined && this.used > 0) this.sealed.push({ buf: this.current, used: this.used });
    else if (this.current !== undefined) this.recycle(this.current);
    this.current = undefined;
    this.used = 0;
  }

  /** Writes everything buffered now, unless the stream is blocked (then it is written on 'drain'). */
  flush(): void {
    if (this.timer !== undefined) {
      this.timer.cancel();
      this.timer = undefined;
    }
    if (this.blocked || this.pendingBytes === 0) return;
    this.seal();
    const parts = this.sealed;
    const bytes = this.pendingBytes;
    this.sealed = [];
    this.pendingBytes = 0;
    let chunk: Buffer;
    let done: () => void;
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only !== undefined) {
      chunk = only.buf.subarray(0, only.used);
      done = () => this.recycle(only.buf);
    } else {
      chunk = Buffer.concat(parts.map((p) => p.buf.subarray(0, p.used)));
      for (const p of parts) this.recycle(p.buf);
      done = () => undefined;
    }
    const ok = this.stream.write(chunk, done);
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

  private recycle(buf: Buffer): void {
    if (buf.length === this.bufferBytes && this.spare.length < MAX_SPARE) this.spare.push(buf);
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.pendingBytes > 0 && !this.blocked) this.stats?.flushedByTimer.inc();
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
