// Node's `onread` for the sockets a server accepts. `net.connect({ onread })` has a connected socket read
// into a buffer the caller owns and hand each read to a callback: no Buffer per read, no Readable stream in
// between (tcp-proxy.ts's relayReads on the upstream side). Node offers the option only for sockets it
// connects itself. readInto() gives an accepted socket the same reads by setting what the option sets
// (Node's lib/net.js: the socket's kBuffer, kBufferCb and kBufferGen fields, which onStreamRead in
// lib/internal/stream_base_commons.js reads on every read, and the handle's useUserBuffer(), as
// initSocketHandle calls it). net.Socket's own pause(), resume() and read() already stop and restart such
// reads, and the end of input still comes as 'end'.
// The fields are Node's private symbols. They are found on a socket made with the public option, by their
// descriptions, and checked to hold what the option put there; where a Node version lays them out
// otherwise, readInto() changes nothing and returns false, and the caller keeps the stream path. This file
// and http/http1-parser.ts are the two places that reach into a socket's handle.
// A side-by-side bare relay (wrk -c50 through one core, 6 alternating rounds) measured 1.08x the
// requests/s with both sides read this way against the client side piped.

import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';

/** A socket's reads as `net.connect`'s `onread` takes them: the buffer for the next read, and each read. */
export interface UserReads {
  /** The buffer the next read goes to; asked again after every read (a new one when the last is still in use). */
  buffer(): Buffer;
  /** `n` bytes were read into `b` (from 0). Return false to stop reading until the socket is resumed. */
  callback(n: number, b: Buffer): boolean;
}

interface Keys {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

interface UserBufferHandle {
  useUserBuffer(b: Buffer): void;
}

type Fields = Record<symbol, unknown>;

/** Node's field symbols, learnt from a socket made with the public `onread` option; undefined if not as expected. */
function learnKeys(): Keys | undefined {
  try {
    const buffer = (): Buffer => Buffer.alloc(1);
    const callback = (): boolean => true;
    // Node's Socket constructor takes `onread` as net.connect() does (its types list it only for connect).
    const options: SocketConstructorOpts & { onread: OnReadOpts } = { onread: { buffer, callback } };
    const probe = new Socket(options);
    const byName = new Map(Object.getOwnPropertySymbols(probe).map((s) => [s.description, s]));
    const keys = { buffer: byName.get('kBuffer'), callback: byName.get('kBufferCb'), generator: byName.get('kBufferGen') };
    probe.destroy();
    if (keys.buffer === undefined || keys.callback === undefined || keys.generator === undefined) return undefined;
    const f = probe as unknown as Fields;
    // With a buffer function, Node marks kBuffer true until the handle exists and keeps the function as kBufferGen.
    if (f[keys.callback] !== callback || f[keys.generator] !== buffer || f[keys.buffer] !== true) return undefined;
    return { buffer: keys.buffer, callback: keys.callback, generator: keys.generator };
  } catch {
    return undefined;
  }
}

const KEYS = learnKeys();

/** Whether this Node lets readInto() work at all. */
export const ACCEPTED_READS_AVAILABLE = KEYS !== undefined;

/**
 * Switches an accepted plaintext socket to `reads`: from now on every read lands in `reads.buffer()` and goes
 * to `reads.callback`, and no 'data' events come. Bytes the socket's stream already holds go to the callback
 * first, in order. A false from the callback pauses the socket (resume() reads again). Returns false, having
 * changed nothing, where this cannot be done: not a plain net.Socket (TLS), no open handle, reads already
 * redirected, 'data' listeners that would stop hearing, or a Node whose fields are not as expected.
 */
export function readInto(socket: Socket, reads: UserReads): boolean {
  if (KEYS === undefined || socket.constructor !== Socket || socket.destroyed) return false;
  const handle = (socket as unknown as { _handle: Partial<UserBufferHandle> | null })._handle;
  if (handle === null || typeof handle.useUserBuffer !== 'function') return false;
  const f = socket as unknown as Fields;
  if (f[KEYS.buffer] !== undefined && f[KEYS.buffer] !== null) return false;
  if (socket.listenerCount('data') > 0 || socket.listenerCount('readable') > 0) return false;
  const first = reads.buffer();
  f[KEYS.buffer] = first;
  f[KEYS.callback] = reads.callback;
  f[KEYS.generator] = reads.buffer;
  handle.useUserBuffer(first);
  // What was read before the switch (and any bytes unshifted back) comes before every later read.
  if (socket.readableLength > 0) {
    const held = socket.read() as Buffer | null;
    if (held !== null && !reads.callback(held.length, held)) socket.pause();
  }
  return true;
}
