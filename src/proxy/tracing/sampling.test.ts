import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideTrace, percentToTenThousandths, type SamplingConfig } from './sampling.js';
import { seededRandom } from '../lib/random.js';
import type { HeaderMap } from '../http/headers.js';

const ALL: SamplingConfig = { client: 10_000, random: 10_000, overall: 10_000 };
const NONE: SamplingConfig = { client: 10_000, random: 0, overall: 10_000 };
// First 8 hex digits 0x00000fa0 = 4000 -> 4000 % 10000 = 4000.
const RID = '00000fa0-1111-4222-8333-444444444444';

describe('tracing decision (Envoy mutateTracingRequestHeader)', () => {
  const cases: { name: string; h: HeaderMap; s: SamplingConfig; want: string; rid?: string }[] = [
    { name: 'random sampling at 100 % samples and marks the request id', h: { 'x-request-id': RID }, s: ALL, want: 'sampling', rid: '00000fa0-1111-9222-8333-444444444444' },
    { name: 'random sampling at 0 % does not', h: { 'x-request-id': RID }, s: NONE, want: 'not_traceable', rid: RID },
    { name: 'the request id number decides: 4000 < 40.01 %', h: { 'x-request-id': RID }, s: { ...NONE, random: percentToTenThousandths(40.01) }, want: 'sampling' },
    { name: 'the request id number decides: 4000 is not < 40 %', h: { 'x-request-id': RID }, s: { ...NONE, random: percentToTenThousandths(40) }, want: 'not_traceable' },
    { name: 'an id already marked sampled stays sampled', h: { 'x-request-id': '00000fa0-1111-9222-8333-444444444444' }, s: NONE, want: 'sampling' },
    { name: 'x-envoy-force-trace forces', h: { 'x-request-id': RID, 'x-envoy-force-trace': 'true' }, s: NONE, want: 'service_forced', rid: '00000fa0-1111-a222-8333-444444444444' },
    { name: 'x-client-trace-id forces within client sampling', h: { 'x-request-id': RID, 'x-client-trace-id': 'abc' }, s: NONE, want: 'client_forced' },
    { name: 'overall sampling can turn it off', h: { 'x-request-id': RID, 'x-envoy-force-trace': '1' }, s: { ...ALL, overall: 0 }, want: 'not_traceable', rid: '00000fa0-1111-4222-8333-444444444444' },
    { name: 'no request id: not traced', h: {}, s: ALL, want: 'not_traceable' },
    { name: 'a request id that is not hex: not traced', h: { 'x-request-id': 'not-a-uuid' }, s: ALL, want: 'not_traceable' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(decideTrace(c.h, c.s, seededRandom(1)), c.want);
      if (c.rid !== undefined) assert.equal(c.h['x-request-id'], c.rid);
    });
  }

  it('percentages become numerators over 10,000; unset is 100 %', () => {
    assert.deepEqual([percentToTenThousandths(undefined), percentToTenThousandths(10), percentToTenThousandths(0.01), percentToTenThousandths(150)], [10_000, 1_000, 1, 10_000]);
  });
});
