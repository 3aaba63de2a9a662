// The primary's side of the Wasm shared stores of `isthmus proxy --concurrency N`: it owns the proxy's one
// shared-data store and one set of shared queues (the in-process implementations) and answers each
// worker's requests on that worker's channel (wasm-shared-channel.ts says why a socketpair), one request
// at a time on the primary's thread, so a CAS from any worker is linearizable. It also answers a plugin's
// host_env_keys from the proxy's environment, so a plugin in a worker sees what it would in one process.
// Queues: a VM registers through its worker; the queue's owner is then that worker (the last registrant,
// as in cpp-host) and `notify` tells it, over the IPC channel, when anything is enqueued. A worker that
// goes away drops the ownership of its queues; their items wait for the next registrant.
// It must never wait on a worker: workers wait on it.
// The channel also carries the circuit breaker ledger's calls (breaker-ledger.ts): a worker's units are
// accounted to its channel and go back when the channel closes.

import type { Duplex } from 'node:stream';
import { WasmResult } from '../wasm/abi.js';
import { InProcessSharedData, type SharedDataStore } from '../wasm/shared-data.js';
import { InProcessSharedQueues, type QueueReadyListener, type SharedQueueRegistry } from '../wasm/shared-queues.js';
import type { BreakerLedger } from './breaker-ledger.js';
import { SharedFrameReader, SharedOp, decodeSharedRequest, encodeSharedResponse, type SharedRequest, type SharedResponse } from '../wasm/shared-store-protocol.js';

export interface WasmSharedServerOptions {
  /** The proxy's environment for host_env_keys (undefined: no value for any key). */
  readonly hostEnv?: (key: string) => string | undefined;
  /** Told when a worker's channel breaks the protocol (it is closed). */
  readonly onProtocolError?: (message: string) => void;
  /** The proxy's circuit breaker ledger (absent: borrows are refused, which a worker never asks without one). */
  readonly breakers?: BreakerLedger;
}

const enc = new TextEncoder();
const EMPTY = new Uint8Array(0);

const answer = (status: number, num = 0, data: Uint8Array = EMPTY): SharedResponse => ({ status, num, data });

/** One worker's channel: the queue listeners its registrations made, by token. */
class Connection {
  readonly owners = new Map<number, QueueReadyListener>();
  constructor(readonly notify: (token: number) => void) {}
}

export class WasmSharedServer {
  readonly data: SharedDataStore = new InProcessSharedData();
  readonly queues: SharedQueueRegistry = new InProcessSharedQueues();

  constructor(private readonly o: WasmSharedServerOptions = {}) {}

  /**
   * Serves one worker's end of a channel until it closes. `notify(token)` must reach that worker (the
   * primary sends it a 'queue-ready' message).
   */
  serve(socket: Duplex, notify: (token: number) => void): void {
    const conn = new Connection(notify);
    const reader = new SharedFrameReader();
    socket.on('data', (chunk: Buffer) => {
      const bodies = reader.push(chunk);
      if (bodies === undefined) return this.#fail(socket, 'a worker sent a frame over the size limit');
      for (const body of bodies) {
        const req = decodeSharedRequest(body);
        if (req === undefined) return this.#fail(socket, 'a worker sent a request the primary does not understand');
        socket.write(encodeSharedResponse(this.handle(conn, req)));
      }
    });
    socket.on('error', () => undefined); // the worker died; 'close' follows
    socket.once('close', () => {
      for (const l of conn.owners.values()) this.queues.release(l);
      conn.owners.clear();
      this.o.breakers?.drop(conn);
    });
  }

  #fail(socket: Duplex, message: string): void {
    this.o.onProtocolError?.(message);
    socket.destroy();
  }

  /** One request against the stores. */
  private handle(conn: Connection, r: SharedRequest): SharedResponse {
    switch (r.op) {
      case SharedOp.GET: {
        const e = this.data.get(r.vmId, r.key);
        return e === undefined ? answer(WasmResult.NOT_FOUND) : answer(WasmResult.OK, e.cas, e.value);
      }
      case SharedOp.SET:
        return answer(this.data.set(r.vmId, r.key, r.value, r.cas));
      case SharedOp.REGISTER: {
        const listener: QueueReadyListener = (token) => conn.notify(token);
        const token = this.queues.register(r.vmId, r.name, listener);
        conn.owners.set(token, listener);
        return answer(WasmResult.OK, token);
      }
      case SharedOp.RESOLVE: {
        const token = this.queues.resolve(r.vmId, r.name);
        return token === undefined ? answer(WasmResult.NOT_FOUND) : answer(WasmResult.OK, token);
      }
      case SharedOp.ENQUEUE:
        return answer(this.queues.enqueue(r.token, r.value));
      case SharedOp.DEQUEUE: {
        const d = this.queues.dequeue(r.token);
        return d.status === WasmResult.OK ? answer(WasmResult.OK, 0, d.value) : answer(d.status);
      }
      case SharedOp.RELEASE: {
        const l = conn.owners.get(r.token);
        conn.owners.delete(r.token);
        if (l !== undefined) this.queues.release(l);
        return answer(WasmResult.OK);
      }
      case SharedOp.HOST_ENV: {
        const v = this.o.hostEnv?.(r.key);
        return v === undefined ? answer(WasmResult.NOT_FOUND) : answer(WasmResult.OK, 0, enc.encode(v));
      }
      case SharedOp.BREAKER_BORROW:
        return answer(WasmResult.OK, this.o.breakers?.borrow(conn, r.key, r.resource, r.count, r.limit) ?? 0);
      case SharedOp.BREAKER_GIVE_BACK:
        this.o.breakers?.giveBack(conn, r.key, r.resource, r.count);
        return answer(WasmResult.OK);
    }
  }
}
