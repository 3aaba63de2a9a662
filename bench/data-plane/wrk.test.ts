// wrk's text report read into numbers: units, errors, and a report that cannot be read. Run with
// `node --import tsx --test bench/data-plane/wrk.test.ts` (`npm test` runs it too).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWrk } from './wrk.js';

const report = (extra: string, p99 = '1.87ms'): string => `Running 3s test @ http://127.0.0.1:8080/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   512.00us  300.00us  12.00ms   90.00%
    Req/Sec    78.10k     2.00k   80.00k    70.00%
  Latency Distribution
     50%  467.00us
     75%  600.00us
     90%  800.00us
     99%    ${p99}
  234225 requests in 3.00s, 35.12MB read
${extra}Requests/sec:  78075.12
Transfer/sec:     11.68MB
`;

describe('parseWrk', () => {
  const cases: { name: string; text: string; want: ReturnType<typeof parseWrk> }[] = [
    {
      name: 'a clean run',
      text: report(''),
      want: { requests: 234225, rps: 78075.12, p50Ms: 0.467, p90Ms: 0.8, p99Ms: 1.87, errors: 0 },
    },
    {
      name: 'seconds in the tail, non-2xx answers and socket errors counted as errors',
      text: report('  Socket errors: connect 1, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 4\n', '1.20s'),
      want: { requests: 234225, rps: 78075.12, p50Ms: 0.467, p90Ms: 0.8, p99Ms: 1200, errors: 10 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = parseWrk(c.text);
      assert.ok(typeof got !== 'string', String(got));
      assert.ok(typeof c.want !== 'string');
      for (const k of Object.keys(c.want) as (keyof typeof c.want)[]) assert.ok(Math.abs(got[k] - c.want[k]) < 1e-9, `${k}: ${got[k]} != ${c.want[k]}`);
    });
  }

  it('an unreadable report says so, with the text', () => {
    const got = parseWrk('unable to connect to 127.0.0.1:8080 Connection refused\n');
    assert.ok(typeof got === 'string' && got.includes('Connection refused'));
  });
});
