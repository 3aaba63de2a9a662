// The downstream request body as the router's replayable source (Envoy buffers a request body for retries
// and shadows up to the buffer limit): chunks are kept while the body stays under the limit, every attempt
// replays it from the start, and once it outgrows the limit a retry is no longer possible and chunks
// already sent are dropped.

import { runBodyFilters, type HttpStream } from './http-stream.js';

/** The request body as a replayable source: chunks are kept while under the retry buffer limit. */
export class BodySource {
  readonly chunks: Buffer[] = [];
  size = 0;
  ended = false;
  overflow = false;
  #waiters: (() => void)[] = [];

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
      this.#wake();
    });
    req.on('end', () => {
      if (filters !== undefined) {
        const last = runBodyFilters(filters, Buffer.alloc(0), true);
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
    if (this.overflow || this.size <= this.limit) return;
    this.overflow = true;
    this.onOverflow();
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

  /** A replay for a shadow copy: it stops (the copy fails) once the body outgrows the buffer. */
  async *copy(): AsyncGenerator<Buffer> {
    for await (const c of this.iterate()) {
      if (this.overflow) throw new Error('request body exceeds the buffer limit');
      yield c;
    }
  }

  async *iterate(): AsyncGenerator<Buffer> {
    let i = 0;
    for (;;) {
      while (i < this.chunks.length) {
        const c = this.chunks[i++] as Buffer;
        if (this.overflow) this.chunks[i - 1] = Buffer.alloc(0); // not kept once retries are impossible
        yield c;
      }
      if (this.ended) return;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }
}
