// The primary's shared-store server with real worker-like child processes: each child reaches it over the
// blocking channel on fd 4 (as a forked worker does) and uses the remote stores the worker's VMs use.
// Concurrent CAS increments from two processes are all kept, a queue registered in one process is fed
// from another and its registrant is told, host_env_keys are answered from the primary's environment, and a
// closed channel is an error value, not an exception.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WasmResult } from '../wasm/abi.js';
import { WASM_SHARED_STDIO_FD, WORKER_STDIO } from './wasm-shared-channel.js';
import { WasmSharedServer } from './wasm-shared-server.js';
import { tsImport } from '../../../test/support/ts-import.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/** A child that runs commands against the remote stores and answers each with one message. */
const CHILD = `
import { BlockingFdChannel } from ${JSON.stringify(here('./wasm-shared-channel.ts'))};
import { RemoteSharedData, RemoteSharedQueues, remoteHostEnv } from ${JSON.stringify(here('../wasm/remote-shared-store.ts'))};
const ch = new BlockingFdChannel(${WASM_SHARED_STDIO_FD});
const data = new RemoteSharedData(ch);
const queues = new RemoteSharedQueues(ch);
const env = remoteHostEnv(ch);
const enc = new TextEncoder();
const dec = new TextDecoder();
const owner = (token) => {
  const items = [];
  for (;;) {
    const r = queues.dequeue(token);
    if (r.status !== 0) break;
    items.push(dec.decode(r.value));
  }
  process.send({ t: 'dequeued', token, items });
};
process.on('message', (m) => {
  if (m.t === 'queue-ready') return queues.notify(m.token);
  const reply = (v) => process.send({ t: 'reply', id: m.id, v });
  switch (m.cmd) {
    case 'count': {
      let mismatches = 0; // how often the other process won a race (not asserted: timing)
      for (let i = 0; i < m.n; i++) {
        for (;;) {
          const cur = data.get('vm', 'n');
          const next = String(Number(cur === undefined ? '0' : dec.decode(cur.value)) + 1);
          const s = data.set('vm', 'n', enc.encode(next), cur === undefined ? 0 : cur.cas);
          if (s === 0) break;
          mismatches++;
        }
      }
      return reply(mismatches);
    }
    case 'register': return reply(queues.register('vm', m.name, owner));
    case 'release': return reply(queues.release(owner));
    case 'enqueue': {
      const token = queues.resolve('vm', m.name) ?? m.token;
      return reply(m.items.map((i) => queues.enqueue(token, enc.encode(i))));
    }
    case 'get': { const r = data.get('vm', m.key); return reply(r === undefined ? null : dec.decode(r.value)); }
    case 'set': return reply(data.set('vm', m.key, enc.encode(m.value), 0));
    case 'env': return reply(env(m.key) ?? null);
  }
});
process.send({ t: 'up' });
`;

interface Child {
  readonly proc: ChildProcess;
  readonly channel: Socket;
  ask(cmd: Record<string, unknown>): Promise<unknown>;
  /** Resolves with the next 'dequeued' message. */
  nextDequeue(): Promise<{ token: number; items: string[] }>;
}

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

async function startChild(server: WasmSharedServer): Promise<Child> {
  const proc = spawn(process.execPath, [...tsImport(), '--input-type=module', '-e', CHILD], { stdio: WORKER_STDIO });
  children.push(proc);
  const channel = proc.stdio[WASM_SHARED_STDIO_FD];
  assert.ok(channel instanceof Socket);
  server.serve(channel, (token) => proc.send({ t: 'queue-ready', token }));
  const replies = new Map<number, (v: unknown) => void>();
  // 'dequeued' messages may arrive back to back (one per queue-ready), before the test asks for the next:
  // they wait here rather than being dropped, which hung the test once in CI.
  const dequeued: { token: number; items: string[] }[] = [];
  const dequeues: ((m: { token: number; items: string[] }) => void)[] = [];
  let up: () => void = () => undefined;
  const started = new Promise<void>((r) => (up = r));
  proc.on('message', (m: { t: string; id?: number; v?: unknown; token?: number; items?: string[] }) => {
    if (m.t === 'up') up();
    else if (m.t === 'reply') replies.get(m.id ?? -1)?.(m.v);
    else if (m.t === 'dequeued') {
      const d = { token: m.token ?? 0, items: m.items ?? [] };
      const waiter = dequeues.shift();
      if (waiter === undefined) dequeued.push(d);
      else waiter(d);
    }
  });
  await started;
  let id = 0;
  return {
    proc,
    channel,
    ask: (cmd) =>
      new Promise((resolve) => {
        const n = ++id;
        replies.set(n, resolve);
        proc.send({ ...cmd, id: n });
      }),
    nextDequeue: () => {
      const d = dequeued.shift();
      return d === undefined ? new Promise((resolve) => dequeues.push(resolve)) : Promise.resolve(d);
    },
  };
}

describe('Wasm shared stores served by the primary to worker processes', () => {
  it('keeps every CAS increment from two processes racing on one key', async () => {
    const server = new WasmSharedServer();
    // Created first: creating a missing key is an unconditional write (cas 0), which two racers could both do.
    server.data.set('vm', 'n', new TextEncoder().encode('0'), 0);
    const [a, b] = await Promise.all([startChild(server), startChild(server)]);
    await Promise.all([a.ask({ cmd: 'count', n: 300 }), b.ask({ cmd: 'count', n: 300 })]);
    assert.equal(new TextDecoder().decode(server.data.get('vm', 'n')?.value), '600');
    assert.equal(await a.ask({ cmd: 'get', key: 'n' }), '600', 'a worker reads what both wrote');
  });

  it('a queue registered in one process is fed from another; the last registrant is told and dequeues', async () => {
    const server = new WasmSharedServer();
    const [a, b] = await Promise.all([startChild(server), startChild(server)]);
    const token = (await a.ask({ cmd: 'register', name: 'paths' })) as number;
    assert.ok(token > 0);
    const got = a.nextDequeue();
    assert.deepEqual(await b.ask({ cmd: 'enqueue', name: 'paths', items: ['/one'] }), [WasmResult.OK]);
    assert.deepEqual(await got, { token, items: ['/one'] });

    // Registering the same (vm_id, name) elsewhere keeps the token and moves the ownership (cpp-host).
    assert.equal(await b.ask({ cmd: 'register', name: 'paths' }), token);
    const toB = b.nextDequeue();
    assert.deepEqual(await a.ask({ cmd: 'enqueue', name: 'paths', items: ['/two', '/three'] }), [WasmResult.OK, WasmResult.OK]);
    // One queue-ready per enqueue: b may drain both items on the first, or one on each.
    let items = (await toB).items;
    while (items.length < 2) items = [...items, ...(await b.nextDequeue()).items];
    assert.deepEqual(items, ['/two', '/three']);

    assert.deepEqual(await a.ask({ cmd: 'enqueue', name: 'nope', token: 999, items: ['z'] }), [WasmResult.NOT_FOUND], 'an unknown token is NOT_FOUND');
  });

  it('a worker that goes away leaves its queues without an owner; items wait for the next registrant', async () => {
    const server = new WasmSharedServer();
    const [a, b] = await Promise.all([startChild(server), startChild(server)]);
    const token = (await a.ask({ cmd: 'register', name: 'jobs' })) as number;
    const closed = new Promise((r) => a.channel.once('close', r));
    a.proc.kill('SIGKILL');
    await closed;
    assert.deepEqual(await b.ask({ cmd: 'enqueue', name: 'jobs', items: ['x'] }), [WasmResult.OK]);
    const got = b.nextDequeue();
    assert.equal(await b.ask({ cmd: 'register', name: 'jobs' }), token);
    assert.deepEqual(await b.ask({ cmd: 'enqueue', name: 'jobs', items: ['y'] }), [WasmResult.OK]);
    assert.deepEqual((await got).items, ['x', 'y']);
  });

  it("answers host_env_keys from the primary's environment", async () => {
    const server = new WasmSharedServer({ hostEnv: (k) => ({ POD_NAME: 'reviews-1', EMPTY: '' })[k] });
    const a = await startChild(server);
    assert.deepEqual([await a.ask({ cmd: 'env', key: 'POD_NAME' }), await a.ask({ cmd: 'env', key: 'EMPTY' }), await a.ask({ cmd: 'env', key: 'HOME' })], ['reviews-1', '', null]);
  });

  it('a channel the primary closed answers errors to the guest instead of throwing', async () => {
    const server = new WasmSharedServer();
    const a = await startChild(server);
    assert.equal(await a.ask({ cmd: 'set', key: 'k', value: 'v' }), WasmResult.OK);
    a.channel.destroy();
    assert.equal(await a.ask({ cmd: 'set', key: 'k', value: 'w' }), WasmResult.INTERNAL_FAILURE);
    assert.equal(await a.ask({ cmd: 'get', key: 'k' }), null);
    assert.equal(await a.ask({ cmd: 'register', name: 'q' }), 0);
  });
});
