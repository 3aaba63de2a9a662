// The charts' axes and lines, and the one-word sync state of a proxy: what a user reads off the
// service and workload pages.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lineShape, tickLabel, xTickIndexes, yAxis } from './chart-scale.js';
import { labelPairs, syncSummary } from './format.js';

describe('chart axes', () => {
  it('puts round ticks from 0 to just above the largest value', () => {
    const cases: [string, number, number[]][] = [
      ['nothing to show', 0, [0, 0.25, 0.5, 0.75, 1]],
      ['a 0..1 ratio in %', 1, [0, 0.25, 0.5, 0.75, 1]],
      ['requests/s', 14.7, [0, 5, 10, 15]],
      ['milliseconds', 220, [0, 100, 200, 300]],
      ['a round value', 250, [0, 100, 200, 300]],
      ['small', 0.031, [0, 0.01, 0.02, 0.03, 0.04]],
      ['not a number', NaN, [0, 0.25, 0.5, 0.75, 1]],
    ];
    for (const [name, v, want] of cases) {
      const axis = yAxis(v);
      assert.deepEqual(axis.ticks, want, name);
      assert.equal(axis.max, want[want.length - 1], name);
    }
  });

  it('writes tick labels short', () => {
    const cases: [number, string][] = [[0, '0'], [0.625, '0.625'], [1.25, '1.25'], [2.5, '2.5'], [150, '150'], [1234, '1.2k'], [25_000, '25k'], [1 / 3, '0.333']];
    for (const [v, want] of cases) assert.equal(tickLabel(v), want, String(v));
  });

  it('spreads at most four time labels, the first and last included', () => {
    assert.deepEqual(xTickIndexes(61), [0, 20, 40, 60]);
    assert.deepEqual(xTickIndexes(3), [0, 1, 2]);
    assert.deepEqual(xTickIndexes(0), []);
  });
});

describe('lineShape', () => {
  const box = { left: 0, top: 0, width: 40, height: 10 };

  it('draws values from the bottom of the box up to the maximum', () => {
    assert.deepEqual(lineShape([0, 5, 10], 10, box), { paths: ['M0,10 L20,5 L40,0'], dots: [] });
  });

  it('breaks the line where there is no data, and draws a lone point as a dot', () => {
    assert.deepEqual(lineShape([1, 2, null, 4, null], 10, box), { paths: ['M0,9 L10,8'], dots: [[30, 6]] });
    assert.deepEqual(lineShape([null, null], 10, box), { paths: [], dots: [] });
  });

  it('clips values above the maximum at the top', () => {
    assert.deepEqual(lineShape([20, 20], 10, box).paths, ['M0,0 L40,0']);
  });
});

describe('proxy sync state', () => {
  it('is SYNCED when every type the proxy watches is, else the worst', () => {
    const cases: [string, Parameters<typeof syncSummary>[0], ReturnType<typeof syncSummary>][] = [
      ['all synced', { CDS: 'SYNCED', LDS: 'SYNCED', EDS: 'SYNCED', RDS: 'SYNCED' }, 'SYNCED'],
      ['an unwatched type does not count', { CDS: 'SYNCED', LDS: 'SYNCED', EDS: 'IGNORED', RDS: 'SYNCED' }, 'SYNCED'],
      ['one waiting for an ACK', { CDS: 'SYNCED', LDS: 'STALE', EDS: 'SYNCED', RDS: 'NOT SENT' }, 'STALE'],
      ['a rejected update wins', { CDS: 'ERROR', LDS: 'STALE' }, 'ERROR'],
      ['nothing watched', { CDS: 'IGNORED' }, 'IGNORED'],
    ];
    for (const [name, status, want] of cases) assert.equal(syncSummary(status), want, name);
  });

  it('lists labels sorted by key', () => {
    assert.deepEqual(labelPairs({ version: 'v1', app: 'reviews' }), ['app=reviews', 'version=v1']);
  });
});
