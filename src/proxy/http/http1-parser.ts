// Node's own HTTP/1.1 parser (llhttp compiled into node, the one behind node:http), for the proxy's
// purpose-built HTTP/1.1 codecs. It is reached through `require('_http_common').HTTPParser`, which Node 20
// exposes without a deprecation warning (unlike process.binding). This file is the one place that touches
// that non-public API and the stream handle a parser can consume: if a future Node drops it,
// `HTTP1_PARSER` is undefined and the codecs fall back to node:http and undici.
// The parser is always strict (no lenient flags): what node's server refuses (bad request lines, invalid
// header characters, conflicting Content-Length, Content-Length with Transfer-Encoding) is refused here too.

import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/** An llhttp parse error as node reports it (`code` is llhttp's, e.g. HPE_INVALID_HEADER_TOKEN). */
export interface ParserError extends Error {
  readonly code: string;
  readonly reason?: string;
  readonly bytesParsed?: number;
}

/** The parser's callbacks, in the slots node assigns them. */
export interface ParserCallbacks {
  /** A message starts (only called when defined). */
  onMessageBegin?(): void;
  /** Headers seen so far when they did not fit the parser's buffer (also trailers): flat name/value list. */
  onHeaders(headers: string[], url: string): void;
  /**
   * The head is complete. `headers` and `url` are undefined when onHeaders already delivered them. Return 1
   * to have a response parser skip the body (HEAD), 0 otherwise.
   */
  onHeadersComplete(versionMajor: number, versionMinor: number, headers: string[] | undefined, method: number | undefined, url: string | undefined, statusCode: number | undefined, statusMessage: string | undefined, upgrade: boolean, shouldKeepAlive: boolean): number;
  onBody(chunk: Buffer): void;
  onMessageComplete(): void;
  /** After each read when the parser consumes the socket's handle: bytes parsed, or the parse error. */
  onExecute(result: number | ParserError): void;
}

export interface Http1Parser {
  execute(data: Buffer): number | ParserError;
  /** Signals the end of input: an error when a message was cut short. */
  finish(): number | ParserError | undefined;
  /** The buffer of the execute (or native read) in progress: where an upgrade's first bytes are. */
  currentBuffer(): Buffer;
  /** Start of a new connection (parsers are reused). */
  reinitialize(maxHeaderSize: number): void;
  /** Reads the socket's bytes natively, without 'data' events, when the socket allows it. */
  consume(socket: Socket): boolean;
  unconsume(): void;
  close(): void;
}

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | ParserError;
  finish(): number | ParserError | undefined;
  getCurrentBuffer(): Buffer;
  consume(handle: object): void;
  unconsume(): void;
  close(): void;
}

interface ParserClass {
  new (): NativeParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kOnExecute: number;
  readonly kLenientNone: number;
}

/** The part of a socket's handle the codecs use: reading on and off while the parser consumes it. */
interface StreamHandle {
  readonly isStreamBase?: boolean;
  reading?: boolean;
  readStart(): number;
  readStop(): number;
}

function load(): { cls: ParserClass; methods: readonly string[] } | undefined {
  try {
    const common = createRequire(import.meta.url)('_http_common') as { HTTPParser?: ParserClass; methods?: readonly string[] };
    const cls = common.HTTPParser;
    if (typeof cls !== 'function' || typeof cls.prototype.consume !== 'function' || !Array.isArray(common.methods)) return undefined;
    return { cls, methods: methodTable(cls, common.methods) };
  } catch {
    return undefined;
  }
}

/** llhttp reports methods by number; node's exported list is not indexed by it, so the numbers are learnt once. */
function methodTable(cls: ParserClass, names: readonly string[]): readonly string[] {
  const table: string[] = [];
  const p = new cls();
  for (const name of names) {
    let seen: number | undefined;
    p.initialize(cls.REQUEST, {}, 0, cls.kLenientNone);
    (p as unknown as Record<number, unknown>)[cls.kOnHeadersComplete] = (_a: number, _b: number, _h: unknown, m: number) => {
      seen = m;
      return 0;
    };
    p.execute(Buffer.from(`${name} / HTTP/1.1\r\n\r\n`, 'latin1'));
    if (seen !== undefined) table[seen] = name;
  }
  p.close();
  return table;
}

const loaded = load();

/** llhttp's method numbers to names; empty when the parser is unavailable. */
export const HTTP_METHODS: readonly string[] = loaded?.methods ?? [];

function handleOf(socket: Socket): StreamHandle | null {
  return (socket as unknown as { _handle: StreamHandle | null })._handle;
}

/** Stops reading a socket whose handle a parser consumes (socket.pause() does not reach it). */
export function stopReading(socket: Socket, consumed: boolean): void {
  if (!consumed) {
    socket.pause();
    return;
  }
  const h = handleOf(socket);
  if (h !== null && h.reading === true) {
    h.reading = false;
    h.readStop();
  }
}

export function startReading(socket: Socket, consumed: boolean): void {
  if (!consumed) {
    socket.resume();
    return;
  }
  const h = handleOf(socket);
  if (h !== null && h.reading !== true) {
    h.reading = true;
    h.readStart();
  }
}

class NodeHttp1Parser implements Http1Parser {
  readonly #p: NativeParser;
  readonly #type: number;
  #consumed = false;

  constructor(cls: ParserClass, type: number, maxHeaderSize: number, cb: ParserCallbacks) {
    const p = new cls();
    const slots = p as unknown as Record<number, unknown>;
    if (cb.onMessageBegin !== undefined) slots[cls.kOnMessageBegin] = cb.onMessageBegin.bind(cb);
    slots[cls.kOnHeaders] = cb.onHeaders.bind(cb);
    slots[cls.kOnHeadersComplete] = cb.onHeadersComplete.bind(cb);
    slots[cls.kOnBody] = cb.onBody.bind(cb);
    slots[cls.kOnMessageComplete] = cb.onMessageComplete.bind(cb);
    slots[cls.kOnExecute] = cb.onExecute.bind(cb);
    this.#p = p;
    this.#type = type;
    p.initialize(type, {}, maxHeaderSize, cls.kLenientNone);
  }

  execute(data: Buffer): number | ParserError {
    return this.#p.execute(data);
  }

  finish(): number | ParserError | undefined {
    return this.#p.finish();
  }

  currentBuffer(): Buffer {
    return this.#p.getCurrentBuffer();
  }

  reinitialize(maxHeaderSize: number): void {
    this.#p.initialize(this.#type, {}, maxHeaderSize, (loaded as { cls: ParserClass }).cls.kLenientNone);
  }

  consume(socket: Socket): boolean {
    const h = handleOf(socket);
    const marked = h as (StreamHandle & { _consumed?: boolean }) | null;
    if (h === null || h.isStreamBase !== true || marked?._consumed === true) return false;
    (marked as { _consumed?: boolean })._consumed = true;
    this.#p.consume(h);
    this.#consumed = true;
    // Reading is the handle's now; keep node's flag in step so socket.resume() does not double-start.
    if (h.reading !== true) {
      h.reading = true;
      h.readStart();
    }
    return true;
  }

  unconsume(): void {
    if (!this.#consumed) return;
    this.#consumed = false;
    this.#p.unconsume();
  }

  close(): void {
    this.unconsume();
    const p = this.#p;
    // Never free the native parser while one of its callbacks may be on the stack (node does the same).
    setImmediate(() => p.close());
  }
}

/** Creates parsers; undefined when this Node does not expose its parser (the codecs then use node:http/undici). */
export const HTTP1_PARSER:
  | { request(maxHeaderSize: number, cb: ParserCallbacks): Http1Parser; response(maxHeaderSize: number, cb: ParserCallbacks): Http1Parser }
  | undefined =
  loaded === undefined
    ? undefined
    : {
        request: (max, cb) => new NodeHttp1Parser(loaded.cls, loaded.cls.REQUEST, max, cb),
        response: (max, cb) => new NodeHttp1Parser(loaded.cls, loaded.cls.RESPONSE, max, cb),
      };
