import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTimeFormat } from './time-format.js';

const T = Date.UTC(2024, 0, 5, 7, 8, 9, 42);

describe('START_TIME formats (UTC)', () => {
  const cases: [string, string][] = [
    ['', '2024-01-05T07:08:09.042Z'],
    ['%Y-%m-%dT%H:%M:%E3SZ', '2024-01-05T07:08:09.042Z'],
    ['%Y/%m/%d %H:%M:%S %z', '2024/01/05 07:08:09 +0000'],
    ['%s', '1704438489'],
    ['%f', '042000000'],
    ['%1f|%3f|%6f', '0|042|042000'],
    ['%E6S', '09.042000'],
    ['%E*S', '09.042'],
    ['%a %b %e %j %p %I', 'Fri Jan  5 005 AM 07'],
    ['%F %T', '2024-01-05 07:08:09'],
    ['100%% %Q', '100% %Q'],
  ];
  for (const [format, want] of cases) {
    it(`'${format}' -> '${want}'`, () => {
      const r = compileTimeFormat(format, false);
      assert.ok(r.ok);
      assert.equal(r.value(T), want);
    });
  }

  it('the default format is toISOString() for every millisecond, across seconds, days and years', () => {
    const r = compileTimeFormat('', false);
    assert.ok(r.ok);
    const starts = [T, Date.UTC(2024, 11, 31, 23, 59, 59, 990), Date.UTC(1969, 11, 31, 23, 59, 59, 995), Date.UTC(10000, 0, 1)];
    for (const start of starts) {
      for (let t = start; t < start + 40; t += 0.5) assert.equal(r.value(t), new Date(Math.floor(t)).toISOString(), String(t));
      // Back to an earlier millisecond of another second: nothing of the later one is kept.
      assert.equal(r.value(start - 1500), new Date(start - 1500).toISOString());
    }
  });

  it('rejects a newline specifier', () => {
    const r = compileTimeFormat('%Y%n', false);
    assert.equal(r.ok, false);
  });

  it('formats local time with the local offset', () => {
    const r = compileTimeFormat('', true);
    assert.ok(r.ok);
    assert.match(r.value(T), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.042[+-]\d{4}$/);
  });
});
