import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from '../../../lib/clock.js';
import { StatsStore } from '../../stats/stats-store.js';
import { AccessLogSink, type LineWritable } from './access-log-sink.js';

function fakeClock(): { clock: Clock; advance(ms: number): void } {
  let now = 0;
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  return {
    clock: {
      now: () => now,
      setTimeout(fn, ms) {
        const t = { at: now + ms, fn, live: true };
        timers.push(t);
        return { cancel: () => void (t.live = false) };
      },
    },
    advance(ms) {
      now += ms;
      for (const t of timers) {
        if (t.live && t.at <= now) {
          t.live = false;
          t.fn();
        }
      }
    },
  };
}

class FakeStream implements LineWritable {
  /** What was written, one string per write (decoded as UTF-8 when written). */
  chunks: string[] = [];
  /** The chunks themselves, as the stream would keep them until they reach the file. */
  raw: Uint8Array[] = [];
  accept = true;
  /** Whether write callbacks wait for written() (a file still being written) or run at once. */
  holdCallbacks = false;
  private held: (() => void)[] = [];
  private drains: (() => void)[] = [];
  write(chunk: Uint8Array, done: () => void): boolean {
    this.chunks.push(Buffer.from(chunk).toString('utf8'));
    this.raw.push(chunk);
    if (this.holdCallbacks) this.held.push(done);
    else done();
    return this.accept;
  }
  /** The writes so far reached the file. */
  written(): void {
    const h = this.held;
    this.held = [];
    for (const f of h) f();
  }
  once(_event: 'drain', listener: () => void): unknown {
    this.drains.push(listener);
    return this;
  }
  drain(): void {
    this.accept = true;
    const d = this.drains;
    this.drains = [];
    for (const f of d) f();
  }
}

function setup(minFlushBytes = 64 * 1024, maxBufferedBytes?: number) {
  const t = fakeClock();
  const stream = new FakeStream();
  const store = new StatsStore();
  const sink = new AccessLogSink(stream, {
    clock: t.clock,
    minFlushBytes,
    ...(maxBufferedBytes === undefined ? {} : { maxBufferedBytes }),
    stats: store.scope('access_log_file'),
  });
  const stat = (name: string): number => store.counter(`access_log_file.${name}`).value;
  return { t, stream, store, sink, stat };
}

describe('access log sink', () => {
  it('writes buffered lines in one batch when the flush interval passes', () => {
    const { t, stream, store, sink, stat } = setup();
    sink.log('a\n');
    sink.log('b\n');
    sink.log('c\n');
    assert.deepEqual(stream.chunks, []);
    assert.equal(store.gauge('access_log_file.write_total_buffered').value, 6);
    t.advance(999);
    assert.deepEqual(stream.chunks, []);
    t.advance(1);
    assert.deepEqual(stream.chunks, ['a\nb\nc\n']);
    assert.equal(stat('write_buffered'), 3);
    assert.equal(stat('write_completed'), 1);
    assert.equal(stat('flushed_by_timer'), 1);
    assert.equal(store.gauge('access_log_file.write_total_buffered').value, 0);
  });

  it('writes at once when the buffer reaches the flush size', () => {
    const { t, stream, sink, stat } = setup(8);
    sink.log('1234\n');
    sink.log('5678\n');
    assert.deepEqual(stream.chunks, ['1234\n5678\n']);
    t.advance(5000);
    assert.deepEqual(stream.chunks, ['1234\n5678\n']);
    assert.equal(stat('flushed_by_timer'), 0);
  });

  it('holds lines while the stream pushes back and writes them on drain', () => {
    const { t, stream, sink } = setup(4);
    stream.accept = false;
    sink.log('one\n');
    sink.log('two\n');
    sink.log('three\n');
    t.advance(1000);
    assert.deepEqual(stream.chunks, ['one\n']);
    stream.drain();
    assert.deepEqual(stream.chunks, ['one\n', 'two\nthree\n']);
  });

  it('drops lines beyond the cap while blocked, and counts them', () => {
    const { stream, sink, stat } = setup(1, 10);
    stream.accept = false;
    sink.log('first\n');
    sink.log('12345\n');
    sink.log('too much\n');
    stream.drain();
    assert.deepEqual(stream.chunks, ['first\n', '12345\n']);
    assert.equal(stat('write_failed'), 1);
  });

  it('buffers and counts lines as UTF-8 bytes', () => {
    const { t, stream, store, sink } = setup();
    sink.log('caf\u00e9 \u{1f600}\n');
    assert.equal(store.gauge('access_log_file.write_total_buffered').value, 11);
    t.advance(1000);
    assert.deepEqual(stream.chunks, ['caf\u00e9 \u{1f600}\n']);
  });

  it('writes a line longer than the flush size whole, after the lines before it', () => {
    const { stream, sink, stat } = setup(8);
    sink.log('ab\n');
    const long = 'x'.repeat(40_000) + '\n';
    sink.log(long);
    sink.log('cd\n');
    assert.deepEqual(stream.chunks, ['ab\n' + long]);
    assert.equal(stat('write_completed'), 1);
  });

  it('never changes a chunk until the stream has written it', () => {
    const { stream, sink } = setup(4);
    stream.holdCallbacks = true;
    sink.log('one\n');
    sink.log('two\n');
    sink.log('six\n');
    assert.deepEqual(stream.raw.map((c) => Buffer.from(c).toString('utf8')), ['one\n', 'two\n', 'six\n']);
    stream.written();
    sink.log('ten\n');
    sink.log('end\n');
    assert.deepEqual(stream.chunks, ['one\n', 'two\n', 'six\n', 'ten\n', 'end\n']);
    assert.deepEqual(stream.raw.slice(3).map((c) => Buffer.from(c).toString('utf8')), ['ten\n', 'end\n']);
  });

  it('flushes on close, waits for the stream, then refuses lines', async () => {
    const { stream, sink, stat } = setup();
    stream.accept = false;
    sink.log('last\n');
    let closed = false;
    const done = sink.close().then(() => {
      closed = true;
    });
    await Promise.resolve();
    assert.equal(closed, false);
    assert.deepEqual(stream.chunks, ['last\n']);
    stream.drain();
    await done;
    assert.equal(closed, true);
    sink.log('late\n');
    assert.deepEqual(stream.chunks, ['last\n']);
    assert.equal(stat('write_failed'), 1);
  });
});
