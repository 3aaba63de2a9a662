import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreakers } from './circuit-breakers.js';
import { ConnectionSlots } from './connection-slots.js';

function slots(connections: number, pending: number): { s: ConnectionSlots; b: CircuitBreakers } {
  const b = new CircuitBreakers({ connections, pending, requests: 1024, retries: 3 });
  return { s: new ConnectionSlots(b), b };
}

test('connection slots: free connections first, then pending up to the limit, then overflow', () => {
  const { s, b } = slots(2, 1);
  const noop = (): void => undefined;
  assert.deepEqual([s.acquire(noop), s.acquire(noop), s.acquire(() => undefined), s.acquire(() => undefined)], ['ready', 'ready', 'pending', 'overflow']);
  assert.deepEqual([b.current('connections'), b.current('pending')], [2, 1]);
});

test('connection slots: a freed connection goes to the oldest waiter, in order', () => {
  const { s, b } = slots(1, 3);
  const order: string[] = [];
  const first = (): void => undefined;
  const w1 = (): void => void order.push('w1');
  const w2 = (): void => void order.push('w2');
  assert.equal(s.acquire(first), 'ready');
  assert.equal(s.acquire(w1), 'pending');
  assert.equal(s.acquire(w2), 'pending');
  s.release(first);
  assert.deepEqual(order, ['w1']);
  assert.deepEqual([b.current('connections'), b.current('pending')], [1, 1]);
  s.release(w1);
  assert.deepEqual(order, ['w1', 'w2']);
  s.release(w2);
  assert.deepEqual([b.current('connections'), b.current('pending')], [0, 0]);
});

test('connection slots: releasing a waiter cancels its wait without taking a connection', () => {
  const { s, b } = slots(1, 2);
  const holder = (): void => undefined;
  let woken = false;
  const waiter = (): void => void (woken = true);
  s.acquire(holder);
  assert.equal(s.acquire(waiter), 'pending');
  s.release(waiter);
  assert.deepEqual([b.current('connections'), b.current('pending'), s.pendingCount], [1, 0, 0]);
  s.release(holder);
  assert.equal(woken, false);
  assert.equal(b.current('connections'), 0);
});

test('connection slots: a new request does not jump the queue of waiters', () => {
  const { s } = slots(1, 5);
  const holder = (): void => undefined;
  s.acquire(holder);
  s.acquire(() => undefined);
  s.release(holder); // passes to the waiter
  assert.equal(s.acquire(() => undefined), 'pending');
});
