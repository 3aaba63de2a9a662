// The worker's end of its channel to the primary's Wasm shared stores: a blocking round trip on a socket
// the primary hands every worker at fork time (an extra stdio entry, WASM_SHARED_STDIO_FD).
//
// Why this shape. Shared data and queue calls are synchronous ABI calls (the guest waits in a host call),
// so the worker must get the primary's answer without returning to its event loop. Node 20 without native
// addons offers no synchronous IPC, no cross-process Atomics, and child_process's channel is asynchronous;
// but a read(2) on a blocking descriptor is synchronous, and fs.readSync/fs.writeSync do exactly that.
// Options weighed: (a) FIFOs made with mkfifo, opened by path — needs a tool, paths to create and clean
// up, and FIFO opens that block until both ends arrive; (b) a socketpair made by child_process itself for a
// 'pipe' stdio entry: the primary's end is an ordinary non-blocking net.Socket on its event loop, the
// worker's end is inherited blocking, nothing touches the filesystem, and either side sees the other die
// (EOF / EPIPE). We use (b). Measured: ~65 µs per round trip on a busy two-core machine.
// One request is in flight at a time (the worker's single thread waits for it), so frames need no ids.

import { readSync, writeSync } from 'node:fs';
import { MAX_SHARED_FRAME_BYTES } from '../wasm/shared-store-protocol.js';
import type { SharedStoreTransport } from '../wasm/remote-shared-store.js';

/** Where the channel sits in a worker's stdio: 0-2 inherited, 3 the cluster IPC channel, 4 this. */
export const WASM_SHARED_STDIO_FD = 4;

/** The stdio layout the primary forks workers with (cluster.setupPrimary). */
export const WORKER_STDIO: ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'] = ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'];

/** Sleeps the thread briefly (a descriptor that unexpectedly is non-blocking answered EAGAIN). */
const pause = ((cell: Int32Array) => () => void Atomics.wait(cell, 0, 0, 1))(new Int32Array(new SharedArrayBuffer(4)));

function isAgain(e: unknown): boolean {
  return e instanceof Error && 'code' in e && (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK');
}

export class BlockingFdChannel implements SharedStoreTransport {
  private broken = false;
  private readonly head = new Uint8Array(4);

  /** `onBroken` is told once, when the primary's end goes away or misbehaves. */
  constructor(
    private readonly fd: number,
    private readonly onBroken: (reason: string) => void = () => undefined,
  ) {}

  call(frame: Uint8Array): Uint8Array | undefined {
    if (this.broken) return undefined;
    try {
      this.writeAll(frame);
      this.readExact(this.head);
      const len = new DataView(this.head.buffer).getUint32(0);
      if (len > MAX_SHARED_FRAME_BYTES) throw new Error(`the primary announced a ${len}-byte answer`);
      const body = new Uint8Array(len);
      this.readExact(body);
      return body;
    } catch (e) {
      this.broken = true;
      this.onBroken(e instanceof Error ? e.message : String(e));
      return undefined;
    }
  }

  private writeAll(b: Uint8Array): void {
    let at = 0;
    while (at < b.byteLength) {
      try {
        at += writeSync(this.fd, b, at, b.byteLength - at);
      } catch (e) {
        if (!isAgain(e)) throw e;
        pause();
      }
    }
  }

  private readExact(into: Uint8Array): void {
    let at = 0;
    while (at < into.byteLength) {
      let n: number;
      try {
        n = readSync(this.fd, into, at, into.byteLength - at, null);
      } catch (e) {
        if (!isAgain(e)) throw e;
        pause();
        continue;
      }
      if (n === 0) throw new Error('the primary closed the channel');
      at += n;
    }
  }
}
