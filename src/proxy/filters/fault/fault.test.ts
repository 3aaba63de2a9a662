// Fault injection as a user of Envoy's fault filter sees it: configured rates hold over many requests,
// header-controlled faults obey the configured ceiling, per-route settings replace the listener's,
// max_active_faults stops new faults, and bad configs are rejected with field paths.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { HTTPFaultSchema } from '../../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { seededRandom, type Random } from '../../lib/random.js';
import { compileFault, resolveFaultConfig, type FaultConfig } from './config.js';
import {
  FAULT_ABORT_BODY,
  FAULT_ABORT_DETAILS,
  FAULT_FLAG_ABORT,
  FAULT_FLAG_DELAY,
  NO_FAULT,
  createResponseThrottle,
  decideFault,
  faultStatName,
  type HeaderMap,
} from './engine.js';

function fault(json: JsonObject): FaultConfig {
  const r = compileFault(fromJson(HTTPFaultSchema, json));
  if (!r.ok) assert.fail(`unexpected problems: ${r.problems.join('; ')}`);
  return r.value;
}

function problems(json: JsonObject, path?: string): string[] {
  const r = compileFault(fromJson(HTTPFaultSchema, json), path);
  return r.ok ? [] : r.problems;
}

/** A Random that must not be consulted. */
const noRandom: Random = { next: () => assert.fail('random consulted') };

const pct = (numerator: number, denominator = 'HUNDRED'): JsonObject => ({ numerator, denominator });

describe('fault rates over 10,000 requests (seeded)', () => {
  const cases: { name: string; cfg: JsonObject; delay: number; abort: number; both?: number }[] = [
    { name: 'delay 50%', cfg: { delay: { fixed_delay: '0.2s', percentage: pct(50) } }, delay: 50, abort: 0 },
    { name: 'abort 10%', cfg: { abort: { http_status: 503, percentage: pct(10) } }, delay: 0, abort: 10 },
    { name: 'abort 25.00% in ten-thousandths', cfg: { abort: { http_status: 503, percentage: pct(2500, 'TEN_THOUSAND') } }, delay: 0, abort: 25 },
    { name: 'delay 7.5% in millionths', cfg: { delay: { fixed_delay: '1s', percentage: pct(75_000, 'MILLION') } }, delay: 7.5, abort: 0 },
    {
      name: 'delay 50% and abort 50% are rolled independently',
      cfg: { delay: { fixed_delay: '0.1s', percentage: pct(50) }, abort: { http_status: 500, percentage: pct(50) } },
      delay: 50,
      abort: 50,
      both: 25,
    },
    { name: 'delay 100% always', cfg: { delay: { fixed_delay: '0.1s', percentage: pct(100) } }, delay: 100, abort: 0 },
    { name: 'percentage unset means never (proto default 0%)', cfg: { abort: { http_status: 503 } }, delay: 0, abort: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const cfg = fault(c.cfg);
      const random = seededRandom(42);
      let delays = 0;
      let aborts = 0;
      let both = 0;
      const n = 10_000;
      for (let i = 0; i < n; i++) {
        const d = decideFault(cfg, {}, random, 0);
        if (d.delayMs !== undefined) delays++;
        if (d.abort !== undefined) aborts++;
        if (d.delayMs !== undefined && d.abort !== undefined) both++;
      }
      assert.ok(Math.abs((delays / n) * 100 - c.delay) <= 2, `delays ${delays / 100}% vs ${c.delay}%`);
      assert.ok(Math.abs((aborts / n) * 100 - c.abort) <= 2, `aborts ${aborts / 100}% vs ${c.abort}%`);
      if (c.both !== undefined) assert.ok(Math.abs((both / n) * 100 - c.both) <= 2, `both ${both / 100}% vs ${c.both}%`);
    });
  }
});

describe('what a request gets', () => {
  const cases: { name: string; cfg: JsonObject; headers?: HeaderMap; routeCluster?: string; want: object }[] = [
    { name: 'Istio listener filter (empty HTTPFault) injects nothing', cfg: {}, want: {} },
    { name: 'fixed delay in ms', cfg: { delay: { fixed_delay: '1.5s', percentage: pct(100) } }, want: { delayMs: 1500 } },
    { name: 'a sub-millisecond delay is no delay', cfg: { delay: { fixed_delay: '0.0005s', percentage: pct(100) } }, want: {} },
    { name: 'HTTP abort', cfg: { abort: { http_status: 503, percentage: pct(100) } }, want: { abort: { status: 503 } } },
    { name: 'gRPC abort', cfg: { abort: { grpc_status: 14, percentage: pct(100) } }, want: { abort: { grpcStatus: 14 } } },
    {
      name: 'delay then abort',
      cfg: { delay: { fixed_delay: '2s', percentage: pct(100) }, abort: { http_status: 500, percentage: pct(100) } },
      want: { delayMs: 2000, abort: { status: 500 } },
    },
    // Header-controlled faults (x-envoy-fault-*); the configured percentage is the ceiling.
    { name: 'header delay', cfg: { delay: { header_delay: {}, percentage: pct(100) } }, headers: { 'x-envoy-fault-delay-request': '200' }, want: { delayMs: 200 } },
    { name: 'header delay, header absent', cfg: { delay: { header_delay: {}, percentage: pct(100) } }, want: {} },
    { name: 'header delay, not a number', cfg: { delay: { header_delay: {}, percentage: pct(100) } }, headers: { 'x-envoy-fault-delay-request': '20ms' }, want: {} },
    { name: 'header delay of 0', cfg: { delay: { header_delay: {}, percentage: pct(100) } }, headers: { 'x-envoy-fault-delay-request': '0' }, want: {} },
    { name: 'header delay, first value only', cfg: { delay: { header_delay: {}, percentage: pct(100) } }, headers: { 'x-envoy-fault-delay-request': ['30', '40'] }, want: { delayMs: 30 } },
    {
      name: 'header percentage 0 turns the delay off',
      cfg: { delay: { header_delay: {}, percentage: pct(100) } },
      headers: { 'x-envoy-fault-delay-request': '200', 'x-envoy-fault-delay-request-percentage': '0' },
      want: {},
    },
    {
      name: 'header percentage cannot exceed the configured 0%',
      cfg: { delay: { header_delay: {} } },
      headers: { 'x-envoy-fault-delay-request': '200', 'x-envoy-fault-delay-request-percentage': '100' },
      want: {},
    },
    { name: 'header abort', cfg: { abort: { header_abort: {}, percentage: pct(100) } }, headers: { 'x-envoy-fault-abort-request': '429' }, want: { abort: { status: 429 } } },
    {
      name: 'header abort outside 200-599 falls back to the gRPC header',
      cfg: { abort: { header_abort: {}, percentage: pct(100) } },
      headers: { 'x-envoy-fault-abort-request': '700', 'x-envoy-fault-abort-grpc-request': '4' },
      want: { abort: { grpcStatus: 4 } },
    },
    {
      name: 'HTTP abort header wins over the gRPC one',
      cfg: { abort: { header_abort: {}, percentage: pct(100) } },
      headers: { 'x-envoy-fault-abort-request': '503', 'x-envoy-fault-abort-grpc-request': '4' },
      want: { abort: { status: 503 } },
    },
    { name: 'header abort, no header', cfg: { abort: { header_abort: {}, percentage: pct(100) } }, want: {} },
    {
      name: 'header abort percentage 0',
      cfg: { abort: { header_abort: {}, percentage: pct(100) } },
      headers: { 'x-envoy-fault-abort-request': '503', 'x-envoy-fault-abort-request-percentage': '0' },
      want: {},
    },
    // Who gets faults.
    {
      name: 'headers matcher matches',
      cfg: { abort: { http_status: 503, percentage: pct(100) }, headers: [{ name: 'x-user', exact_match: 'jason' }] },
      headers: { 'x-user': 'jason' },
      want: { abort: { status: 503 } },
    },
    {
      name: 'headers matcher does not match',
      cfg: { abort: { http_status: 503, percentage: pct(100) }, headers: [{ name: 'x-user', exact_match: 'jason' }] },
      headers: { 'x-user': 'bill' },
      want: {},
    },
    {
      name: 'headers matcher: a missing header fails even an inverted exact match',
      cfg: { abort: { http_status: 503, percentage: pct(100) }, headers: [{ name: 'x-user', exact_match: 'jason', invert_match: true }] },
      want: {},
    },
    {
      name: 'headers matcher: inverted present_match matches a missing header',
      cfg: { abort: { http_status: 503, percentage: pct(100) }, headers: [{ name: 'X-Canary', present_match: true, invert_match: true }] },
      want: { abort: { status: 503 } },
    },
    {
      name: 'headers matcher: string_match prefix with ignore_case',
      cfg: { abort: { http_status: 503, percentage: pct(100) }, headers: [{ name: 'user-agent', string_match: { prefix: 'curl/', ignore_case: true } }] },
      headers: { 'user-agent': 'CURL/8.0' },
      want: { abort: { status: 503 } },
    },
    {
      name: 'headers matcher: safe_regex over joined values',
      cfg: { abort: { http_status: 503, percentage: pct(100) }, headers: [{ name: 'x-tag', safe_regex_match: { regex: 'a,b' } }] },
      headers: { 'x-tag': ['a', 'b'] },
      want: { abort: { status: 503 } },
    },
    {
      name: 'downstream_nodes: listed node',
      cfg: { abort: { http_status: 503, percentage: pct(100) }, downstream_nodes: ['node-a'] },
      headers: { 'x-envoy-downstream-service-node': 'node-a' },
      want: { abort: { status: 503 } },
    },
    { name: 'downstream_nodes: no node header', cfg: { abort: { http_status: 503, percentage: pct(100) }, downstream_nodes: ['node-a'] }, want: {} },
    { name: 'upstream_cluster: other cluster', cfg: { abort: { http_status: 503, percentage: pct(100) }, upstream_cluster: 'c1' }, routeCluster: 'c2', want: {} },
    { name: 'upstream_cluster: this cluster', cfg: { abort: { http_status: 503, percentage: pct(100) }, upstream_cluster: 'c1' }, routeCluster: 'c1', want: { abort: { status: 503 } } },
    // Response rate limit.
    { name: 'fixed response rate limit', cfg: { response_rate_limit: { fixed_limit: { limit_kbps: 64 }, percentage: pct(100) } }, want: { responseRateLimitKbps: 64 } },
    {
      name: 'header response rate limit',
      cfg: { response_rate_limit: { header_limit: {}, percentage: pct(100) } },
      headers: { 'x-envoy-fault-throughput-response': '8' },
      want: { responseRateLimitKbps: 8 },
    },
    {
      name: 'header response rate limit of 0 is none',
      cfg: { response_rate_limit: { header_limit: {}, percentage: pct(100) } },
      headers: { 'x-envoy-fault-throughput-response': '0' },
      want: {},
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      // 0% and 100% never need a random draw.
      assert.deepEqual({ ...decideFault(fault(c.cfg), c.headers ?? {}, noRandom, 0, c.routeCluster) }, c.want);
    });
  }
});

describe('per-route override', () => {
  it('the most specific per-route HTTPFault replaces the listener settings whole', () => {
    const listener = fault({ abort: { http_status: 503, percentage: pct(100) } });
    const route = fault({ delay: { fixed_delay: '0.3s', percentage: pct(100) } });
    assert.deepEqual({ ...decideFault(resolveFaultConfig(listener, route), {}, noRandom, 0) }, { delayMs: 300 });
    assert.deepEqual({ ...decideFault(resolveFaultConfig(listener, undefined), {}, noRandom, 0) }, { abort: { status: 503 } });
  });
  it('an empty per-route HTTPFault turns faults off for that route', () => {
    const listener = fault({ abort: { http_status: 503, percentage: pct(100) } });
    assert.equal(decideFault(resolveFaultConfig(listener, fault({})), {}, noRandom, 0), NO_FAULT);
  });
});

describe('max_active_faults', () => {
  const cfg = fault({ max_active_faults: 2, delay: { fixed_delay: '1s', percentage: pct(100) }, abort: { http_status: 503, percentage: pct(100) } });
  const cases: { name: string; active: number; want: object }[] = [
    { name: 'below the limit: delay and abort', active: 1, want: { delayMs: 1000, abort: { status: 503 } } },
    { name: 'at the limit: nothing, counted as overflow', active: 2, want: { overflowed: true } },
    { name: 'above the limit', active: 5, want: { overflowed: true } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual({ ...decideFault(cfg, {}, noRandom, c.active) }, c.want));
  it('a request that matches no fault is not an overflow', () => {
    const none = fault({ max_active_faults: 0, abort: { http_status: 503, percentage: pct(0) } });
    assert.equal(decideFault(none, {}, noRandom, 0), NO_FAULT);
  });
});

describe('compile problems (field paths, all at once)', () => {
  const cases: { name: string; cfg: JsonObject; path?: string; want: string[] }[] = [
    { name: 'abort status out of range', cfg: { abort: { http_status: 700, percentage: pct(1) } }, want: ['abort.http_status: value must be inside range [200, 600) (got 700)'] },
    { name: 'abort without a type', cfg: { abort: { percentage: pct(1) } }, want: ['abort: one of http_status, grpc_status or header_abort is required'] },
    { name: 'zero fixed delay', cfg: { delay: { fixed_delay: '0s' } }, want: ['delay.fixed_delay: value must be greater than 0s'] },
    { name: 'delay without a type', cfg: { delay: { percentage: pct(1) } }, want: ['delay: one of fixed_delay or header_delay is required'] },
    { name: 'rate limit of 0 kbps', cfg: { response_rate_limit: { fixed_limit: { limit_kbps: 0 } } }, want: ['response_rate_limit.fixed_limit.limit_kbps: value must be greater than or equal to 1'] },
    {
      name: 'bad header matchers, prefixed by where the config sits',
      cfg: { headers: [{ name: 'a', safe_regex_match: { regex: '(' } }, { name: '', prefix_match: '' }] },
      path: 'typed_per_filter_config["envoy.filters.http.fault"]',
      want: [
        'typed_per_filter_config["envoy.filters.http.fault"].headers[0].safe_regex_match.regex: invalid regex "(": missing closing ): (',
        'typed_per_filter_config["envoy.filters.http.fault"].headers[1].name: value length must be at least 1 characters',
        'typed_per_filter_config["envoy.filters.http.fault"].headers[1].prefix_match: value length must be at least 1 characters',
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = problems(c.cfg, c.path);
      // Regex messages come from RE2; compare the stable prefix for those.
      assert.deepEqual(
        got.map((p) => p.replace(/(invalid regex "[^"]*"):.*$/, '$1')),
        c.want.map((p) => p.replace(/(invalid regex "[^"]*"):.*$/, '$1')),
      );
    });
  }
});

describe('response throttle', () => {
  it('starts with 50ms of budget, refills at the configured KiB/s, holds at most one second', () => {
    const t = createResponseThrottle(1, 0); // 1 KiB/s = 1024 bytes/s
    assert.equal(t.take(10_000, 0), 51); // 50ms worth
    assert.equal(t.take(10_000, 0), 0);
    assert.equal(t.take(10_000, 500), 512);
    assert.equal(t.take(100, 500), 0);
    assert.equal(t.take(10_000, 10_000), 1024); // capped at one second of tokens
    assert.equal(t.take(10, 11_000), 10);
  });
});

describe('what Envoy shows users', () => {
  it('uses Envoy body, flags, details and stat names', () => {
    assert.equal(FAULT_ABORT_BODY, 'fault filter abort');
    assert.equal(FAULT_ABORT_DETAILS, 'fault_filter_abort');
    assert.equal(FAULT_FLAG_DELAY, 'DI');
    assert.equal(FAULT_FLAG_ABORT, 'FI');
    assert.equal(faultStatName('inbound_0.0.0.0_8080', 'delays_injected'), 'http.inbound_0.0.0.0_8080.fault.delays_injected');
    assert.equal(faultStatName('ingress', 'aborts_injected', 'frontend'), 'http.ingress.fault.frontend.aborts_injected');
    assert.equal(faultStatName('ingress', 'active_faults'), 'http.ingress.fault.active_faults');
  });
});
