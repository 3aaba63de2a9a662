// The downstream request body as the router's replayable source. Envoy's router buffers a request body for
// retries up to the stream's buffer limit (forward-plan.ts bodyBufferLimit) and streams it to shadows
// (since Envoy 1.31's streaming_shadow, a shadow is sent alongside the request, bodies larger than the
// buffer limit included). Here every attempt and every shadow is a replay from the first byte: chunks are
// kept while the body stays under the limit, so a retry can replay it; once it outgrows the limit no new
// replay can start (retries are given up) and each chunk is let go as soon as every replay in progress has
// read it.
//
// The limit is also the downstream's high watermark (Envoy's connection manager read-disables the downstream
// when a stream's buffer passes its limit and enables it again below half of it): while more than `limit`
// bytes are held because a replay reads slowly (an upstream or shadow that does not keep up, or the first
// attempt waiting for a connection), the client's body is not read, so TCP or HTTP/2 flow control slows the
// client instead of the proxy holding the difference. A shadow counts like an attempt: Envoy's router gives
// each streaming shadow the stream's watermark callbacks (router.cc, setWatermarkCallbacks), so a shadow that
// does not keep up slows the request too.

import { runBodyFilters, type HttpStream } from './http-stream.js';

const EMPTY = Buffer.alloc(0);

/** A replay's read position. */
export interface Cursor {
  at: number;
}

/** The request body as a replayable source: chunks are kept while under the buffer limit. */
export class BodySource {
  readonly chunks: Buffer[] = [];
  size = 0;
  ended = false;
  overflow = false;
  #waiters: (() => void)[] = [];
  /** Replays in progress (attempts, shadows), by read position. */
  readonly #cursors = new Set<Cursor>();
  /** Chunks below this index were let go (past the limit, every replay had read them). */
  #released = 0;
  /** Bytes held (received and not let go). */
  #held = 0;
  /** The downstream body is paused: more than `limit` bytes are held. */
  #paused = false;

  /**
   * `limit`: the bytes kept for replays (forward-plan.ts bodyBufferLimit); `onOverflow` is told once when
   * the body outgrows it.
   */
  constructor(
    private readonly s: HttpStream,
    private readonly limit: number,
    private readonly onOverflow: () => void,
  ) {
    const req = s.request.body;
    const filters = s.requestBodyFilters;
    req.on('data', (raw: Buffer) => {
      s.activity++;
      s.info.bytesReceived += raw.length;
      const c = filters === undefined ? raw : runBodyFilters(filters, raw, false);
      if (c === undefined || c.length === 0) return;
      this.chunks.push(c);
      this.#grow(c.length);
      if (this.#held > this.limit && !this.#paused) {
        this.#paused = true;
        req.pause();
      }
      this.#wake();
    });
    req.on('end', () => {
      if (filters !== undefined) {
        const last = runBodyFilters(filters, EMPTY, true);
        if (last !== undefined && last.length > 0) {
          this.chunks.push(last);
          this.#grow(last.length);
        }
      }
      this.ended = true;
      this.#wake();
    });
  }

  #grow(n: number): void {
    this.size += n;
    this.#held += n;
    if (this.overflow || this.size <= this.limit) return;
    this.overflow = true;
    this.onOverflow();
    this.release();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Calls `f` once the whole body has arrived (now, if it has). */
  whenEnded(f: () => void): void {
    if (this.ended) return f();
    const wait = (): void => {
      if (this.ended) f();
      else this.#waiters.push(wait);
    };
    this.#waiters.push(wait);
  }

  /** Whether a new attempt can replay the whole body. */
  replayable(): boolean {
    return !this.overflow;
  }

  /**
   * A replay from the first byte, counted from now (so nothing it still needs is let go, even before its
   * first read); end it with return() when it will not be read to the end. Undefined once the beginning
   * was let go.
   */
  replay(): BodyReplay | undefined {
    if (this.#released > 0) return undefined;
    const c: Cursor = { at: 0 };
    this.#cursors.add(c);
    return new BodyReplay(this, c);
  }

  /** @internal The next chunk for `c`, once there is one; undefined at the end of the body. */
  async read(c: Cursor): Promise<Buffer | undefined> {
    for (;;) {
      if (c.at < this.chunks.length) {
        const chunk = this.chunks[c.at++] as Buffer;
        if (this.overflow) this.release();
        return chunk;
      }
      if (this.ended) return undefined;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  /** @internal `c` reads no more. */
  close(c: Cursor): void {
    if (this.#cursors.delete(c) && this.overflow) this.release();
  }

  /** Past the limit: lets go of the chunks every replay in progress has read. */
  release(): void {
    let upTo = this.chunks.length;
    for (const c of this.#cursors) if (c.at < upTo) upTo = c.at;
    for (let i = this.#released; i < upTo; i++) {
      this.#held -= (this.chunks[i] as Buffer).length;
      this.chunks[i] = EMPTY;
    }
    if (upTo > this.#released) this.#released = upTo;
    // Envoy's low watermark: half the limit.
    if (this.#paused && this.#held <= this.limit / 2) {
      this.#paused = false;
      this.s.request.body.resume();
    }
  }
}

/** One replay of a BodySource, as an async iterator (what Readable.from takes); return() ends it. */
export class BodyReplay implements AsyncIterableIterator<Buffer> {
  #done = false;

  constructor(
    private readonly source: BodySource,
    private readonly cursor: Cursor,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Buffer, undefined>> {
    if (this.#done) return { done: true, value: undefined };
    const chunk = await this.source.read(this.cursor);
    if (chunk === undefined || this.#done) {
      void this.return();
      return { done: true, value: undefined };
    }
    return { done: false, value: chunk };
  }

  return(): Promise<IteratorResult<Buffer, undefined>> {
    if (!this.#done) {
      this.#done = true;
      this.source.close(this.cursor);
    }
    return Promise.resolve({ done: true, value: undefined });
  }
}
