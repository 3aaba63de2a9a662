import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseFlag } from '../response-flags.js';
import type { AccessLogEntry } from './access-log-entry.js';
import { ENVOY_DEFAULT_FORMAT, ISTIO_TEXT_FORMAT } from './istio-formats.js';
import { compileTextFormat, type AccessLogFormatter } from './text-formatter.js';
import type { FormatOptions } from './commands.js';

const headers = (h: Record<string, string>): Map<string, string> => new Map(Object.entries(h));

/** A request that went upstream and succeeded, as a sidecar's outbound listener sees it. */
const upstreamOk: AccessLogEntry = {
  startTime: Date.UTC(2024, 2, 15, 9, 26, 53, 589),
  requestHeaders: headers({
    ':method': 'GET',
    ':path': '/productpage?u=normal',
    ':authority': 'productpage:9080',
    'user-agent': 'curl/8.5.0',
    'x-request-id': '5b7c4a1e-93f6-9b5c-a42f-7d5d6c0e1f20',
  }),
  responseHeaders: headers({ 'x-envoy-upstream-service-time': '34' }),
  protocol: 'HTTP/1.1',
  responseCode: 200,
  responseFlags: 0,
  responseCodeDetails: 'via_upstream',
  bytesReceived: 0,
  bytesSent: 5293,
  durationMs: 35.6,
  upstreamHost: '10.244.0.12:9080',
  upstreamCluster: 'outbound|9080||productpage.default.svc.cluster.local',
  upstreamClusterObservabilityName: 'outbound|9080||productpage.default.svc.cluster.local;',
  upstreamLocalAddress: '10.244.0.11:44226',
  downstreamLocalAddress: '10.96.10.20:9080',
  downstreamRemoteAddress: '10.244.0.11:44224',
  routeName: 'default',
};

/** A local reply: no route matched, nothing went upstream. */
const noRoute: AccessLogEntry = {
  startTime: Date.UTC(2024, 2, 15, 9, 26, 54, 2),
  requestHeaders: headers({ ':method': 'POST', ':path': '/nope', ':authority': 'productpage:9080', 'user-agent': 'curl/8.5.0', 'x-request-id': 'r2' }),
  responseHeaders: headers({}),
  protocol: 'HTTP/2',
  responseCode: 404,
  responseFlags: ResponseFlag.NR,
  responseCodeDetails: 'route_not_found',
  bytesReceived: 12,
  bytesSent: 0,
  durationMs: 0,
  downstreamLocalAddress: '10.96.10.20:9080',
  downstreamRemoteAddress: '10.244.0.11:44230',
};

/** Upstream connect failures after retries, through a rewritten path, with SNI. */
const connectFailed: AccessLogEntry = {
  startTime: Date.UTC(2024, 2, 15, 9, 27, 0, 0),
  requestHeaders: headers({
    ':method': 'GET',
    ':path': '/api/v1/reviews',
    'x-envoy-original-path': '/reviews/0',
    ':authority': 'reviews.default.svc.cluster.local:9080',
    'x-forwarded-for': '192.0.2.7',
    'user-agent': 'Go-http-client/1.1',
    'x-request-id': 'r3',
  }),
  protocol: 'HTTP/1.1',
  responseCode: 503,
  responseFlags: ResponseFlag.URX | ResponseFlag.UF,
  responseCodeDetails: 'upstream_reset_before_response_started{remote connection failure}',
  upstreamTransportFailureReason: 'delayed connect error: 111',
  bytesReceived: 0,
  bytesSent: 145,
  durationMs: 75,
  upstreamHost: '10.244.0.31:9080',
  upstreamCluster: 'outbound|9080|v2|reviews.default.svc.cluster.local',
  downstreamLocalAddress: '10.244.0.11:9080',
  downstreamRemoteAddress: '192.0.2.7:51000',
  requestedServerName: 'outbound_.9080_.v2_.reviews.default.svc.cluster.local',
  routeName: 'reviews-v2',
};

function compile(format: string, options?: FormatOptions): AccessLogFormatter {
  const r = compileTextFormat(format, options);
  assert.ok(r.ok, r.ok ? '' : r.issues.map((i) => i.message).join('; '));
  return r.value;
}

describe("Istio's default text format", () => {
  const format = compile(ISTIO_TEXT_FORMAT);
  const cases: { name: string; entry: AccessLogEntry; line: string }[] = [
    {
      name: 'a proxied request',
      entry: upstreamOk,
      line:
        '[2024-03-15T09:26:53.589Z] "GET /productpage?u=normal HTTP/1.1" 200 - via_upstream - "-" 0 5293 35 34 ' +
        '"-" "curl/8.5.0" "5b7c4a1e-93f6-9b5c-a42f-7d5d6c0e1f20" "productpage:9080" "10.244.0.12:9080" ' +
        'outbound|9080||productpage.default.svc.cluster.local 10.244.0.11:44226 10.96.10.20:9080 10.244.0.11:44224 - default\n',
    },
    {
      name: 'a local reply with no upstream',
      entry: noRoute,
      line:
        '[2024-03-15T09:26:54.002Z] "POST /nope HTTP/2" 404 NR route_not_found - "-" 12 0 0 - ' +
        '"-" "curl/8.5.0" "r2" "productpage:9080" "-" - - 10.96.10.20:9080 10.244.0.11:44230 - -\n',
    },
    {
      name: 'failed upstream connects: original path, flags in order, spaces replaced in details and reason',
      entry: connectFailed,
      line:
        '[2024-03-15T09:27:00.000Z] "GET /reviews/0 HTTP/1.1" 503 UF,URX ' +
        'upstream_reset_before_response_started{remote_connection_failure} - "delayed_connect_error:_111" 0 145 75 - ' +
        '"192.0.2.7" "Go-http-client/1.1" "r3" "reviews.default.svc.cluster.local:9080" "10.244.0.31:9080" ' +
        'outbound|9080|v2|reviews.default.svc.cluster.local - 10.244.0.11:9080 192.0.2.7:51000 ' +
        'outbound_.9080_.v2_.reviews.default.svc.cluster.local reviews-v2\n',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(format(c.entry), c.line));

  it('prints 0 for the response code and - elsewhere when nothing is known', () => {
    const line = format({ startTime: Date.UTC(2024, 0, 1), responseFlags: ResponseFlag.DC, bytesReceived: 0, bytesSent: 0 });
    assert.equal(line, '[2024-01-01T00:00:00.000Z] "- - -" 0 DC - - "-" 0 0 - - "-" "-" "-" "-" "-" - - - - - -\n');
  });
});

describe('START_TIME without a format (ISO 8601, UTC, milliseconds)', () => {
  it('prints each line its own start, whether it shares the previous line\'s millisecond or not', () => {
    const f = compile('%START_TIME%');
    const at = (ms: number): string => f({ startTime: ms, responseFlags: 0, bytesReceived: 0, bytesSent: 0 });
    const t = Date.UTC(2024, 2, 15, 9, 26, 53, 589);
    const cases: [number, string][] = [
      [t, '2024-03-15T09:26:53.589Z'],
      [t + 0.4, '2024-03-15T09:26:53.589Z'],
      [t + 1, '2024-03-15T09:26:53.590Z'],
      [t, '2024-03-15T09:26:53.589Z'],
      [t + 86_400_000, '2024-03-16T09:26:53.589Z'],
    ];
    for (const [ms, want] of cases) assert.equal(at(ms), want);
  });
});

describe("Envoy's default text format", () => {
  it('prints the classic line', () => {
    assert.equal(
      compile(ENVOY_DEFAULT_FORMAT)(upstreamOk),
      '[2024-03-15T09:26:53.589Z] "GET /productpage?u=normal HTTP/1.1" 200 - 0 5293 35 34 "-" "curl/8.5.0" ' +
        '"5b7c4a1e-93f6-9b5c-a42f-7d5d6c0e1f20" "productpage:9080" "10.244.0.12:9080"\n',
    );
  });
});

describe('format operators', () => {
  const cases: { name: string; format: string; entry?: AccessLogEntry; want: string; options?: FormatOptions }[] = [
    { name: 'truncation of a header', format: '%REQ(USER-AGENT):4%', want: 'curl' },
    { name: 'truncation longer than the value', format: '%REQ(USER-AGENT):100%', want: 'curl/8.5.0' },
    { name: 'truncation to zero', format: '[%REQ(:AUTHORITY):0%]', want: '[]' },
    { name: 'truncation does not apply to -', format: '%REQ(X-MISSING):0%', want: '-' },
    { name: 'alternative header when the first is absent', format: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%', want: '/productpage?u=normal' },
    { name: 'alternative header is not used when the first is present', format: '%REQ(:PATH?:AUTHORITY)%', want: '/productpage?u=normal' },
    { name: 'header names are case-insensitive', format: '%REQ(User-Agent)%', want: 'curl/8.5.0' },
    { name: 'truncation with an alternative', format: '%REQ(X-MISSING?:PATH):5%', want: '/prod' },
    { name: 'response header', format: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%', want: '34' },
    { name: 'missing trailer', format: '%TRAILER(GRPC-STATUS)%', want: '-' },
    { name: "Istio's REQ_WITHOUT_QUERY", format: '%REQ_WITHOUT_QUERY(:PATH)%', want: '/productpage' },
    { name: '%% is a literal percent', format: '100%% %RESPONSE_CODE%', want: '100% 200' },
    { name: 'literal text only', format: 'plain', want: 'plain' },
    { name: 'empty format', format: '', want: '' },
    { name: 'START_TIME with strftime', format: '%START_TIME(%Y/%m/%d %H:%M:%S)%', want: '2024/03/15 09:26:53' },
    { name: 'START_TIME epoch seconds and millis', format: '%START_TIME(%s.%3f)%', want: '1710494813.589' },
    { name: 'START_TIME argument may contain a ) before the end', format: '%START_TIME((%H))%', want: '(09)' },
    { name: 'address without port', format: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%', want: '10.244.0.11' },
    { name: 'address port', format: '%DOWNSTREAM_LOCAL_PORT%', want: '9080' },
    { name: 'upstream remote address falls back to the host', format: '%UPSTREAM_REMOTE_ADDRESS%', want: '10.244.0.12:9080' },
    { name: 'UPSTREAM_CLUSTER prints the alt_stat_name', format: '%UPSTREAM_CLUSTER%', want: 'outbound|9080||productpage.default.svc.cluster.local;' },
    { name: 'long flags', format: '%RESPONSE_FLAGS_LONG%', entry: connectFailed, want: 'UpstreamConnectionFailure,UpstreamRetryLimitExceeded' },
    {
      name: 'RESPONSE_CODE_DETAILS(ALLOW_WHITESPACES)',
      format: '%RESPONSE_CODE_DETAILS(ALLOW_WHITESPACES)%',
      entry: connectFailed,
      want: 'upstream_reset_before_response_started{remote connection failure}',
    },
    { name: 'HOSTNAME from options', format: '%HOSTNAME%', want: 'node-1', options: { hostname: 'node-1' } },
    { name: 'ENVIRONMENT from options, truncated', format: '%ENVIRONMENT(POD_NAME):7%', want: 'reviews', options: { environment: { POD_NAME: 'reviews-v1-abc' } } },
    { name: 'ENVIRONMENT missing', format: '%ENVIRONMENT(NOPE)%', want: '-' },
    { name: 'omit_empty_values prints nothing for unspecified', format: '[%ROUTE_NAME%]', entry: noRoute, want: '[]', options: { omitEmptyValues: true } },
    { name: 'gRPC status is unspecified for a non-gRPC request', format: '%GRPC_STATUS%', want: '-' },
    {
      name: 'dynamic metadata by path',
      format: '%DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_engine_result)% %DYNAMIC_METADATA(istio:peer):20%',
      entry: {
        ...upstreamOk,
        dynamicMetadata: {
          'envoy.filters.http.rbac': { shadow_engine_result: 'denied' },
          istio: { peer: { app: 'productpage', version: 'v1' } },
        },
      },
      want: 'denied {"app":"productpage"',
    },
    {
      name: 'filter state, plain and typed',
      format: '%FILTER_STATE(k:PLAIN)% %FILTER_STATE(obj)%',
      entry: { ...upstreamOk, filterState: { k: 'v', obj: { a: 1 } } },
      want: 'v {"a":1}',
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(compile(c.format, c.options)(c.entry ?? upstreamOk), c.want));
  }

  it('replaces the whitespace of each line\'s own details, line after line', () => {
    const f = compile('%RESPONSE_CODE_DETAILS%');
    const { responseCodeDetails: _, ...noDetails } = upstreamOk;
    const lines = ['via_upstream', 'upstream_reset_before_response_started{remote connection failure}', 'via_upstream', 'a\tb c', undefined, 'a\tb c'].map((d) =>
      f(d === undefined ? noDetails : { ...upstreamOk, responseCodeDetails: d }),
    );
    assert.deepEqual(lines, ['via_upstream', 'upstream_reset_before_response_started{remote_connection_failure}', 'via_upstream', 'a_b_c', '-', 'a_b_c']);
  });

  it('prints gRPC status from trailers, or mapped from the HTTP status', () => {
    const grpc = { ...upstreamOk, requestHeaders: headers({ 'content-type': 'application/grpc' }) };
    const f = compile('%GRPC_STATUS% %GRPC_STATUS(SNAKE_STRING)% %GRPC_STATUS_NUMBER%');
    assert.equal(f({ ...grpc, responseTrailers: headers({ 'grpc-status': '14' }) }), 'Unavailable UNAVAILABLE 14');
    assert.equal(f({ ...grpc, responseCode: 503 }), 'Unavailable UNAVAILABLE 14');
  });
});

describe('format compile problems', () => {
  const cases: { name: string; format: string; problems: string[] }[] = [
    { name: 'unknown command', format: '%NOT_A_THING%', problems: ['Not supported field in StreamInfo: NOT_A_THING'] },
    {
      name: 'lower-case command is not a command',
      format: 'x %protocol%',
      problems: ["Incorrect configuration: x %protocol%. Couldn't find valid command at position 2"],
    },
    {
      name: 'unterminated command',
      format: '%REQ(:PATH)',
      problems: ["Incorrect configuration: %REQ(:PATH). Couldn't find valid command at position 0"],
    },
    { name: 'argument on a command that takes none', format: '%PROTOCOL(x)%', problems: ['PROTOCOL does not take any parameters or length'] },
    { name: 'length on a command that takes none', format: '%RESPONSE_CODE:3%', problems: ['RESPONSE_CODE does not take any parameters or length'] },
    { name: 'length on START_TIME', format: '%START_TIME:3%', problems: ['START_TIME does not allow length to be specified.'] },
    { name: 'REQ without a header', format: '%REQ%', problems: ['REQ requires parameters'] },
    { name: 'two alternatives', format: '%REQ(A?B?C)%', problems: ['More than 1 alternative header specified in token: A?B?C'] },
    { name: 'newline in a time format', format: '%START_TIME(%Y%n)%', problems: ['Invalid header configuration. Format string contains newline.'] },
    { name: 'EMIT_TIME without a clock', format: '%EMIT_TIME%', problems: ['Not supported field in StreamInfo: EMIT_TIME'] },
    {
      name: 'every problem is reported',
      format: '%A% %PROTOCOL(x)% %B%',
      problems: [
        'Not supported field in StreamInfo: A',
        'PROTOCOL does not take any parameters or length',
        'Not supported field in StreamInfo: B',
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = compileTextFormat(c.format);
      assert.equal(r.ok, false);
      assert.deepEqual(
        r.ok ? [] : r.issues.map((i) => i.message),
        c.problems,
      );
      assert.ok(r.ok || r.issues.every((i) => i.path === 'text_format' && i.severity === 'error'));
    });
  }

  it('accepts EMIT_TIME with a clock', () => {
    const f = compile('%EMIT_TIME%', { clock: { now: () => Date.UTC(2025, 0, 2, 3, 4, 5, 6), setTimeout: () => ({ cancel() {} }) } });
    assert.equal(f(upstreamOk), '2025-01-02T03:04:05.006Z');
  });
});
