// One HTTP/1.1 response written straight to the downstream socket (the write side of the purpose-built
// server codec): the status line and headers serialized once, framing chosen as node:http chooses it
// (content-length when given, chunked otherwise on HTTP/1.1, close-delimited on HTTP/1.0; no body for
// HEAD, 204, 304), `date` added when absent, `connection: close` when the connection ends after it.
// The head is held until the end, or until the I/O callbacks of this event-loop turn are over (node drains
// process.nextTick after every parser callback, so a tick would split a response the upstream delivered
// in one read): a small response leaves in one write, and bytes written in one turn are coalesced. It is also the stream's reset hooks (HTTP/1: resetting a stream
// closes its connection) and tells its connection when it ends.

import type { Socket } from 'node:net';
import type { OutgoingHttpHeaders } from 'node:http';
import type { DownstreamResponse, StreamHooks } from './http-stream.js';
import type { HeaderMap } from './headers.js';
import { headerLines, httpDateLine, responseHasBody, responseHeadView } from './http1-head.js';
import { batchedWrite } from '../lib/write-batch.js';

/** Chunks at least this large are written as they are rather than copied into one buffer. */
const COPY_LIMIT = 16 * 1024;

/** What a response needs from its connection. */
export interface ResponseOwner {
  readonly socket: Socket;
  /** The response head is being written: the owner may set closeAfter (its request has not all arrived). */
  onResponseHead(res: Http1Response): void;
  /** The response was handed its last byte (or the connection must close after it). */
  onResponseEnd(res: Http1Response): void;
}

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

type Framing = 'length' | 'chunked' | 'close' | 'none';

export class Http1Response implements DownstreamResponse, StreamHooks {
  headersSent = false;
  /** All of the response was handed to the socket. */
  finished = false;
  /** Bytes of this response reached the socket. */
  flushed = false;
  /** The connection closes after this response. */
  closeAfter: boolean;
  /** Called once: when the response ended (aborted = false) or the connection died first (true). */
  onDone: ((aborted: boolean) => void) | undefined;
  #framing: Framing = 'none';
  /** The head, written as bytes with the first flush (responseHeadView): status, headers and the lines added here. */
  #status = 200;
  #headers: HeaderMap = {};
  #extra = '';
  #pending: Buffer[] | undefined;
  #pendingBytes = 0;
  #scheduled = false;
  #trailers: string | undefined;
  #resets: (() => void)[] | undefined;

  constructor(
    private readonly owner: ResponseOwner,
    private readonly method: string,
    private readonly http10: boolean,
    keepAlive: boolean,
  ) {
    this.closeAfter = !keepAlive;
  }

  writeContinue(): void {
    // An HTTP/1.0 client does not know 1xx responses (RFC 9110 15.2).
    const sock = this.owner.socket;
    if (!this.headersSent && !this.http10 && !sock.destroyed) sock.write(CONTINUE, 'latin1');
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): this {
    if (this.headersSent) return this;
    this.headersSent = true;
    this.owner.onResponseHead(this);
    const h = headers as HeaderMap;
    let extra = h['date'] === undefined ? httpDateLine(Date.now()) : '';
    if (!responseHasBody(this.method, status)) this.#framing = 'none';
    else if (h['content-length'] !== undefined) this.#framing = 'length';
    else if (this.http10) {
      this.#framing = 'close';
      this.closeAfter = true;
    } else {
      this.#framing = 'chunked';
      extra += 'transfer-encoding: chunked\r\n';
    }
    if (this.closeAfter) extra += 'connection: close\r\n';
    else if (this.http10) extra += 'connection: keep-alive\r\n';
    this.#status = status;
    this.#headers = h;
    this.#extra = extra;
    return this;
  }

  write(chunk: Buffer | string): boolean {
    if (this.finished) return false;
    return this.#write(chunk, false);
  }

  #write(chunk: Buffer | string, ending: boolean): boolean {
    if (!this.headersSent) this.writeHead(200, {});
    if (this.#framing === 'none') return true;
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (b.length === 0) return true;
    if (this.#pending === undefined && this.flushed) return this.#send(b);
    (this.#pending ??= []).push(b);
    this.#pendingBytes += b.length;
    if (!ending && !this.#scheduled) {
      this.#scheduled = true;
      scheduleFlush(this);
    }
    return true;
  }

  end(chunk?: Buffer | string): this {
    if (this.finished) return this;
    if (chunk !== undefined && chunk.length > 0) this.#write(chunk, true);
    else if (!this.headersSent) this.writeHead(200, {});
    this.finished = true;
    this.#flush(true);
    this.owner.onResponseEnd(this);
    return this;
  }

  addTrailers(headers: OutgoingHttpHeaders): void {
    this.#trailers = headerLines(headers as HeaderMap);
  }

  once(_event: 'drain', f: () => void): this {
    this.owner.socket.once('drain', f);
    return this;
  }

  /** Writes what is pending (head, coalesced chunks, and at the end the chunked terminator). */
  #flush(last: boolean): void {
    const s = this.owner.socket;
    if (s.destroyed) return;
    // A view of the shared head buffer: copied below before anything else can build a head.
    const head = this.flushed ? undefined : responseHeadView(this.#status, this.#headers, this.#extra);
    this.flushed = true;
    const headBytes = head?.length ?? 0;
    const chunks = this.#pending;
    this.#pending = undefined;
    const bytes = this.#pendingBytes;
    this.#pendingBytes = 0;
    const chunked = this.#framing === 'chunked';
    let tail = '';
    if (last && chunked) tail = `0\r\n${this.#trailers ?? ''}\r\n`;
    if (chunks === undefined) {
      if (headBytes === 0 && tail === '') return;
      const out = Buffer.allocUnsafe(headBytes + tail.length);
      head?.copy(out, 0);
      if (tail !== '') out.write(tail, headBytes, 'latin1');
      batchedWrite(s, out);
      return;
    }
    const size = chunked ? `${bytes.toString(16)}\r\n` : '';
    if (chunked) tail = `\r\n${tail}`;
    if (bytes >= COPY_LIMIT) {
      s.cork();
      if (headBytes > 0 || size !== '') {
        const first = Buffer.allocUnsafe(headBytes + size.length);
        head?.copy(first, 0);
        first.write(size, headBytes, 'latin1');
        s.write(first);
      }
      for (const c of chunks) s.write(c);
      if (tail !== '') s.write(tail, 'latin1');
      s.uncork();
      return;
    }
    const out = Buffer.allocUnsafe(headBytes + size.length + bytes + tail.length);
    head?.copy(out, 0);
    let at = headBytes + out.write(size, headBytes, 'latin1');
    for (const c of chunks) at += c.copy(out, at);
    if (tail !== '') out.write(tail, at, 'latin1');
    batchedWrite(s, out);
  }

  /** Body bytes after the head went out: framed and written now. */
  #send(b: Buffer): boolean {
    const s = this.owner.socket;
    if (s.destroyed) return true;
    if (this.#framing !== 'chunked') return s.write(b);
    if (b.length >= COPY_LIMIT) {
      s.cork();
      s.write(`${b.length.toString(16)}\r\n`, 'latin1');
      s.write(b);
      const ok = s.write('\r\n', 'latin1');
      s.uncork();
      return ok;
    }
    const size = `${b.length.toString(16)}\r\n`;
    const out = Buffer.allocUnsafe(size.length + b.length + 2);
    let at = out.write(size, 0, 'latin1');
    at += b.copy(out, at);
    out.write('\r\n', at, 'latin1');
    return s.write(out);
  }

  /** The end of the loop turn in which body bytes were written without the end: send them. */
  tick(): void {
    this.#scheduled = false;
    if (!this.finished && this.#pending !== undefined && !this.owner.socket.destroyed) this.#flush(false);
  }

  reset(): void {
    this.owner.socket.destroy();
  }

  onReset(f: () => void): void {
    (this.#resets ??= []).push(f);
  }

  /** Runs what waits for a reset without resetting (a local reply follows). */
  cancelWork(): void {
    this.aborted();
  }

  /** The connection closed before the response ended. */
  aborted(): void {
    const fs = this.#resets;
    this.#resets = undefined;
    if (fs !== undefined) for (const f of fs) f();
  }
}

/** A response holding bytes until the end of the loop turn (HTTP/1.1 here, HTTP/2 in http2-response.ts). */
export interface HeldResponse {
  /** The end of the loop turn in which the response was scheduled: write what it holds. */
  tick(): void;
}

/** Responses with bytes held this turn: flushed when the read that produced them ends, or by one setImmediate. */
let toFlush: HeldResponse[] = [];
let holds = 0;
let immediate = false;

function flushAll(): void {
  immediate = false;
  const rs = toFlush;
  toFlush = [];
  for (let i = 0; i < rs.length; i++) (rs[i] as HeldResponse).tick();
}

/** Calls `r.tick()` once the read being delivered ends (releaseFlushes), or else in this loop turn's setImmediate. */
export function scheduleFlush(r: HeldResponse): void {
  toFlush.push(r);
  if (holds === 0 && !immediate) {
    immediate = true;
    setImmediate(flushAll);
  }
}

/**
 * An upstream read is being delivered (its parser callbacks are separate entries from native code, so
 * neither process.nextTick nor a microtask waits for the read's end): body bytes written meanwhile are
 * held and flushed together at releaseFlushes(), with no setImmediate (an extra loop turn per request).
 * Every hold must be released.
 */
export function holdFlushes(): void {
  holds++;
}

export function releaseFlushes(): void {
  if (holds > 0) holds--;
  if (holds === 0 && toFlush.length > 0 && !immediate) flushAll();
}
