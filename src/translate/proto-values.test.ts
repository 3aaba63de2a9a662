import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { durationFromMs, durationFromString, secondsFromString, socketAddress } from './proto-values.js';

describe('durationFromString', () => {
  it('reads the Go durations Istio YAML uses into seconds and nanos', () => {
    const cases: [string, bigint, number][] = [
      ['1.5s', 1n, 500_000_000],
      ['100ms', 0n, 100_000_000],
      ['1h30m', 5400n, 0],
      ['2m0.25s', 120n, 250_000_000],
      ['0', 0n, 0],
    ];
    for (const [s, seconds, nanos] of cases) {
      const d = durationFromString(s);
      assert.deepEqual([d.seconds, d.nanos], [seconds, nanos], s);
    }
  });

  it('names the string it cannot read', () => {
    assert.throws(() => durationFromString('5 minutes'), /duration "5 minutes"/);
  });

  it('truncates to whole seconds where Envoy wants seconds', () => {
    assert.equal(secondsFromString('90.9s'), 90);
  });
});

describe('durationFromMs and socketAddress', () => {
  it('builds a 10s connect timeout from milliseconds', () => {
    const d = durationFromMs(10_000);
    assert.deepEqual([d.seconds, d.nanos], [10n, 0]);
  });

  it('builds a socket address with a port value', () => {
    const a = socketAddress('10.0.0.1', 9080);
    assert.equal(a.address.case, 'socketAddress');
    assert.equal(a.address.case === 'socketAddress' ? `${a.address.value.address}:${String(a.address.value.portSpecifier.value)}` : '', '10.0.0.1:9080');
  });
});
