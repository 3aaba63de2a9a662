// h2load's report, as nghttp2 1.52 (Debian 12) prints it, read into the bench's figures. Run with
// `node --import tsx --test bench/data-plane/h2load.test.ts` (`npm test` runs it too).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseH2load } from './h2load.js';

const REPORT = `starting benchmark...
spawning thread #0: 10 total client(s). Timing-based test with 0s of warm-up time and 2s of main duration for timing.
Main benchmark duration is over for thread #0. Stopping all clients.

finished in 2.00s, 5000.00 req/s, 337.24KB/s
requests: 10085 total, 10090 started, 10085 done, 10000 succeeded, 85 failed, 85 errored, 0 timeout
status codes: 10000 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 674.47KB (690660) total, 468.75KB (480000) headers (space savings 51.02%), 29.30KB (30000) data
                     min         max         mean         sd        +/- sd
time for request:       75us      4.31ms      1.16ms       369us    91.25%
time for connect:       54us       183us       126us        39us    70.00%
time to 1st byte:      376us      1.53ms       951us       384us    60.00%
req/s           :    8391.71     8627.43     8487.46       80.45    50.00%
`;

describe('parseH2load', () => {
  it('reads requests/s, the succeeded requests, the failures and the mean time per request', () => {
    const r = parseH2load(REPORT);
    assert.ok(typeof r !== 'string');
    assert.equal(r.rps, 5000);
    assert.equal(r.requests, 10000);
    assert.equal(r.errors, 85);
    assert.equal(r.meanMs, 1.16);
    assert.ok(Number.isNaN(r.p99Ms));
  });

  it('counts answers other than 2xx as errors, and converts microseconds', () => {
    const r = parseH2load(REPORT.replace('status codes: 10000 2xx, 0 3xx, 0 4xx, 0 5xx', 'status codes: 9990 2xx, 0 3xx, 0 4xx, 10 5xx').replace('1.16ms', '870us'));
    assert.ok(typeof r !== 'string');
    assert.equal(r.errors, 95);
    assert.equal(r.meanMs, 0.87);
  });

  it('says why when the report is not there (h2load could not connect)', () => {
    const r = parseH2load('starting benchmark...\nclient could not connect to host\n');
    assert.equal(typeof r, 'string');
    assert.match(r as string, /^cannot read h2load's report/);
  });
});
