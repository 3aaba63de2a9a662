import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { injectB3, injectTraceparent, parseB3, parseTraceparent, setSampled } from './span-context.js';
import type { HeaderMap } from '../http/headers.js';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SID = '00f067aa0ba902b7';

describe('traceparent', () => {
  const cases: { name: string; h: HeaderMap; want: ReturnType<typeof parseTraceparent> }[] = [
    { name: 'sampled', h: { traceparent: `00-${TID}-${SID}-01` }, want: { traceId: TID, spanId: SID, sampled: true, tracestate: '' } },
    { name: 'not sampled, with tracestate', h: { traceparent: `00-${TID}-${SID}-00`, tracestate: 'a=1' }, want: { traceId: TID, spanId: SID, sampled: false, tracestate: 'a=1' } },
    { name: 'upper case is accepted', h: { traceparent: `00-${TID.toUpperCase()}-${SID}-01` }, want: { traceId: TID, spanId: SID, sampled: true, tracestate: '' } },
    { name: 'a future version with more fields', h: { traceparent: `01-${TID}-${SID}-01-extra` }, want: { traceId: TID, spanId: SID, sampled: true, tracestate: '' } },
    { name: 'version ff is invalid', h: { traceparent: `ff-${TID}-${SID}-01` }, want: undefined },
    { name: 'version 00 with trailing data', h: { traceparent: `00-${TID}-${SID}-01-x` }, want: undefined },
    { name: 'all-zero trace id', h: { traceparent: `00-${'0'.repeat(32)}-${SID}-01` }, want: undefined },
    { name: 'all-zero span id', h: { traceparent: `00-${TID}-${'0'.repeat(16)}-01` }, want: undefined },
    { name: 'short trace id', h: { traceparent: `00-${TID.slice(2)}-${SID}-01` }, want: undefined },
    { name: 'not hex', h: { traceparent: `00-${TID.slice(1)}g-${SID}-01` }, want: undefined },
    { name: 'absent', h: {}, want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseTraceparent(c.h), c.want));

  it('inject writes version 00 with the sampled flag and drops an empty tracestate', () => {
    const h: HeaderMap = { tracestate: 'old=1' };
    injectTraceparent(h, TID, SID, false, '');
    assert.deepEqual(h, { traceparent: `00-${TID}-${SID}-00` });
    injectTraceparent(h, TID, SID, true, 'v=2');
    assert.deepEqual(h, { traceparent: `00-${TID}-${SID}-01`, tracestate: 'v=2' });
  });
});

describe('B3', () => {
  const cases: { name: string; h: HeaderMap; want: ReturnType<typeof parseB3> }[] = [
    { name: 'multi headers, sampled', h: { 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-sampled': '1' }, want: { traceId: TID, spanId: SID, sampled: true, tracestate: '' } },
    { name: '64-bit trace id', h: { 'x-b3-traceid': SID, 'x-b3-spanid': SID }, want: { traceId: SID, spanId: SID, sampled: undefined, tracestate: '' } },
    { name: 'debug flag samples', h: { 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-flags': '1', 'x-b3-sampled': '0' }, want: { traceId: TID, spanId: SID, sampled: true, tracestate: '' } },
    { name: 'single header', h: { b3: `${TID}-${SID}-0` }, want: { traceId: TID, spanId: SID, sampled: false, tracestate: '' } },
    { name: 'single header with parent', h: { b3: `${TID}-${SID}-d-${SID}` }, want: { traceId: TID, spanId: SID, sampled: true, tracestate: '' } },
    { name: 'single header decision only', h: { b3: '0' }, want: { decision: false } },
    { name: 'sampled header alone', h: { 'x-b3-sampled': 'true' }, want: { decision: true } },
    { name: 'malformed span id', h: { 'x-b3-traceid': TID, 'x-b3-spanid': 'xyz' }, want: undefined },
    { name: 'malformed single header', h: { b3: `${TID}-${SID}-maybe` }, want: undefined },
    { name: 'odd-length trace id', h: { 'x-b3-traceid': TID.slice(1), 'x-b3-spanid': SID }, want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseB3(c.h), c.want));

  it('inject writes the multi headers and drops the single one', () => {
    const h: HeaderMap = { b3: '1' };
    injectB3(h, TID, SID, 'aaaaaaaaaaaaaaaa', true);
    assert.deepEqual(h, { 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-parentspanid': 'aaaaaaaaaaaaaaaa', 'x-b3-sampled': '1' });
  });
});

describe('setSampled (a request mirror policy trace_sampled)', () => {
  const T = '4bf92f3577b34da6a3ce929d0e0e4736';
  const S = '00f067aa0ba902b7';
  it('turns the sampled bit of traceparent off and on, keeping the other flags and the ids', () => {
    const h: Record<string, string> = { traceparent: `00-${T}-${S}-03` };
    setSampled(h, false);
    assert.equal(h['traceparent'], `00-${T}-${S}-02`);
    setSampled(h, true);
    assert.equal(h['traceparent'], `00-${T}-${S}-03`);
  });
  it('sets x-b3-sampled (dropping the debug flag), and the single b3 header', () => {
    const multi: Record<string, string> = { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1', 'x-b3-flags': '1' };
    setSampled(multi, false);
    assert.deepEqual(multi, { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '0' });
    const single: Record<string, string> = { b3: `${T}-${S}-1-${S}` };
    setSampled(single, false);
    assert.equal(single['b3'], `${T}-${S}-0-${S}`);
    const decision: Record<string, string> = { b3: '1' };
    setSampled(decision, false);
    assert.equal(decision['b3'], '0');
  });
  it('leaves a request without trace context, or with a malformed one, as it is', () => {
    const none: Record<string, string> = { host: 'x' };
    setSampled(none, false);
    assert.deepEqual(none, { host: 'x' });
    const bad: Record<string, string> = { traceparent: 'garbage' };
    setSampled(bad, false);
    assert.deepEqual(bad, { traceparent: 'garbage' });
  });
});
