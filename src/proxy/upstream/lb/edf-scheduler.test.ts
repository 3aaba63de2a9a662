import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EdfScheduler } from './edf-scheduler.js';

function sequence(weights: Record<string, number>, n: number): string {
  const s = EdfScheduler.create(Object.keys(weights), (k) => weights[k] ?? 0);
  let out = '';
  for (let i = 0; i < n; i++) out += s.pickAndAdd((k) => weights[k] ?? 0);
  return out;
}

test('EdfScheduler: 3:1 weights interleave smoothly', () => {
  const out = sequence({ a: 3, b: 1 }, 400);
  assert.equal(out.slice(0, 3), 'aab');
  assert.equal([...out].filter((x) => x === 'b').length, 100);
  assert.equal(/aaaaa|bb/.test(out), false, 'no bursts');
});

test('EdfScheduler: equal weights take turns in insertion order', () => {
  assert.equal(sequence({ a: 1, b: 1, c: 1 }, 6), 'abcabc');
});

test('EdfScheduler: picks are proportional to weight', () => {
  const out = sequence({ a: 5, b: 2, c: 1 }, 800);
  const count = (ch: string) => [...out].filter((x) => x === ch).length;
  assert.deepEqual([count('a'), count('b'), count('c')], [500, 200, 100]);
});

test('EdfScheduler: zero weight is picked only when nothing else is left', () => {
  assert.equal(sequence({ a: 0, b: 1 }, 3), 'bbb');
  assert.equal(sequence({ a: 0 }, 2), 'aa');
});

test('EdfScheduler: initial picks shift the starting point', () => {
  const s = EdfScheduler.create(['a', 'b', 'c'], () => 1, 2);
  assert.equal(s.pickAndAdd(() => 1), 'c');
});

test('EdfScheduler: weights are re-read on every reschedule', () => {
  const w: Record<string, number> = { a: 1, b: 1 };
  const s = EdfScheduler.create(['a', 'b'], (k) => w[k] ?? 0);
  w.a = 100;
  let out = '';
  for (let i = 0; i < 6; i++) out += s.pickAndAdd((k) => w[k] ?? 0);
  assert.equal(out.split('a').length - 1 >= 4, true, out);
  assert.equal(s.size, 2);
  assert.equal(new EdfScheduler<string>().pickAndAdd(() => 1), undefined);
});
