// Writes held to the end of the event loop's poll phase, then sent one after another.
//
// Why. Every write to a loopback socket wakes the process reading the other end, and on this kind of VM a
// wake-up of a process that went to sleep costs more than the write itself (`perf`: the paravirtualized
// interrupt enable under `sock_def_readable` was the largest single symbol of the proxy). One poll phase
// delivers the reads of many connections; written as each is handled, the requests and responses leave
// tens of microseconds apart and the upstream and the clients sleep and are woken again in between. Held
// until the phase's I/O callbacks are over (a setImmediate runs right after them, in the same loop
// iteration), they leave back to back: the first write wakes a peer and the following ones find it awake.
// Measured with bench/data-plane/ab.ts (wrk -c50 through the gateway, the proxy pinned to one core, 6
// alternating rounds): 1.107x the requests/s (per-round range 1.06-1.17) at 12% less CPU per request.
//
// How. The socket is corked, so every later write to it (a body, a pipelined response, `end()`), whoever
// makes it, waits in node's stream behind the held one; the batch uncorks every socket it corked, in order.
// What a request waits for is one loop phase, not a timer.
//
// The held bytes themselves skip node's Writable when they can (session 24). A request or response head
// is one Buffer written to an idle socket: kept here instead of in the stream's buffer, it goes to the
// socket's handle in one native call at the flush (what net.Socket's own write ends in: StreamBase
// writeBuffer, with a WriteWrap for the case the kernel takes only part of it), then the uncork sends
// whatever node's stream queued behind it. That spares each such write the stream's bookkeeping (a
// buffered entry, clearBuffer, _writeGeneric, the after-write tick): about 1 us of the 2 us a corked
// write cost in a loop of 200-byte writes here, and, side by side at a fixed 2,500 req/s each
// (bench/data-plane/memory.ts with BENCH_MEM_TOGETHER=1, 4 runs), 1.6-5.9 CPU-ms less per 1,000 requests in
// every run (median 158.0 against 153.7). Order holds because anything that reaches the handle through
// the stream first sends the held bytes: the socket's _writeGeneric (every write, writev and end()'s
// flush) and _final (end()'s shutdown) are wrapped on the first held write to it. A destroyed socket
// drops them, as it drops what its stream buffered. The handle counts the bytes (socket.bytesWritten
// reads the handle's count); a failed write destroys the socket with node's error (`write EPIPE`, code,
// errno, syscall). This is a third place (with http/http1-parser.ts and network/accepted-reads.ts) that
// reaches into a socket's handle: where the binding is missing, every write takes the stream path.

import { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

/** Node's write request (src/stream_base.h WriteWrap): what the handle fills in and calls back on. */
interface WriteReq {
  handle: object;
  oncomplete: (this: WriteReq, status: number) => void;
  socket?: Socket;
}

/** The part of internalBinding('stream_wrap') this file uses (process.binding allows it, without a warning). */
interface StreamBinding {
  readonly WriteWrap: new () => WriteReq;
}

interface WritableHandle {
  writeBuffer(req: WriteReq, data: Buffer): number;
}

const kHeld = Symbol('isthmus.heldWrite');
const kWrapped = Symbol('isthmus.heldWriteWrapped');

/** A socket as this file sees it: node's private members it wraps and the handle it writes to. */
type HeldSocket = Socket & {
  [kHeld]?: Buffer | undefined;
  [kWrapped]?: true;
  _handle: WritableHandle | null;
  _writeGeneric(...args: unknown[]): unknown;
  _final(cb: (err?: Error | null) => void): void;
};

function loadBinding(): StreamBinding | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): Partial<StreamBinding> }).binding('stream_wrap');
    const proto = Socket.prototype as Partial<HeldSocket>;
    if (typeof binding.WriteWrap !== 'function' || typeof proto._writeGeneric !== 'function' || typeof proto._final !== 'function') return undefined;
    return binding as StreamBinding;
  } catch {
    return undefined;
  }
}

let binding: StreamBinding | undefined;
let bindingTried = false;

function streamBinding(): StreamBinding | undefined {
  if (!bindingTried) {
    bindingTried = true;
    binding = loadBinding();
  }
  return binding;
}

let corked: Socket[] = [];
let scheduled = false;

/** Node's error for a failed write (lib/internal/errors.js ErrnoException: `write EPIPE`). */
function writeError(status: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(status);
  const e: NodeJS.ErrnoException = new Error(`write ${code}`);
  e.errno = status;
  e.code = code;
  e.syscall = 'write';
  return e;
}

/** Called when a write the kernel did not take whole has finished (status < 0: it failed). */
function afterAsyncWrite(this: WriteReq, status: number): void {
  if (status < 0) this.socket?.destroy(writeError(status));
}

function writeHeld(s: HeldSocket, data: Buffer, b: StreamBinding): void {
  const h = s._handle;
  if (h === null || s.destroyed) return;
  const req = new b.WriteWrap();
  req.handle = h;
  req.socket = s;
  req.oncomplete = afterAsyncWrite;
  const status = h.writeBuffer(req, data);
  if (status !== 0) s.destroy(writeError(status));
}

function sendHeld(s: HeldSocket): void {
  const held = s[kHeld];
  if (held === undefined) return;
  s[kHeld] = undefined;
  writeHeld(s, held, binding as StreamBinding);
}

/** Every write and shutdown that reaches the handle through node's stream sends the held bytes first. */
function wrapStreamWrites(s: HeldSocket): void {
  s[kWrapped] = true;
  const proto = Object.getPrototypeOf(s) as HeldSocket;
  const writeGeneric = proto._writeGeneric;
  const final = proto._final;
  s._writeGeneric = function (this: HeldSocket, ...args: unknown[]): unknown {
    sendHeld(this);
    return writeGeneric.apply(this, args);
  };
  s._final = function (this: HeldSocket, cb: (err?: Error | null) => void): void {
    sendHeld(this);
    final.call(this, cb);
  };
}

function flush(): void {
  scheduled = false;
  const ss = corked;
  corked = [];
  for (let i = 0; i < ss.length; i++) {
    const s = ss[i] as HeldSocket;
    if (s[kHeld] !== undefined) sendHeld(s);
    s.uncork();
  }
}

/** Whether `data` can wait outside node's stream: a Buffer for an idle, connected, open socket, below its high-water mark. */
function canHold(s: HeldSocket, data: string | Buffer): data is Buffer {
  return (
    typeof data !== 'string' &&
    s.writableCorked === 0 &&
    s.writableLength === 0 &&
    data.length < s.writableHighWaterMark &&
    s._handle !== null &&
    !s.connecting &&
    !s.writableEnded &&
    !s.destroyed &&
    streamBinding() !== undefined
  );
}

/**
 * Writes `data` to `s` once the I/O callbacks of this loop iteration are over, in order with every other
 * write to `s`. Returns what `s.write` returned (false: above the socket's high-water mark, wait for 'drain').
 */
export function batchedWrite(s: Socket, data: string | Buffer, encoding?: BufferEncoding): boolean {
  const hs = s as HeldSocket;
  const hold = canHold(hs, data);
  if (hold && hs[kWrapped] !== true) wrapStreamWrites(hs);
  s.cork();
  corked.push(s);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
  if (hold) {
    hs[kHeld] = data;
    return true;
  }
  return encoding !== undefined ? s.write(data, encoding) : s.write(data);
}
