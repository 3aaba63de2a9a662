import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseFlag } from '../response-flags.js';
import type { AccessLogEntry } from './access-log-entry.js';
import { ISTIO_JSON_FORMAT } from './istio-formats.js';
import { compileJsonFormat, type JsonFormatSpec } from './json-formatter.js';
import type { AccessLogFormatter } from './text-formatter.js';
import type { FormatOptions } from './commands.js';

const headers = (h: Record<string, string>): Map<string, string> => new Map(Object.entries(h));

const entry: AccessLogEntry = {
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
  upstreamLocalAddress: '10.244.0.11:44226',
  downstreamLocalAddress: '10.96.10.20:9080',
  downstreamRemoteAddress: '10.244.0.11:44224',
  routeName: 'default',
};

function compile(spec: JsonFormatSpec, options?: FormatOptions): AccessLogFormatter {
  const r = compileJsonFormat(spec, options);
  assert.ok(r.ok, r.ok ? '' : r.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  return r.value;
}

describe("Istio's JSON format", () => {
  it('prints sorted keys, numbers as numbers and null for unspecified values', () => {
    assert.equal(
      compile(ISTIO_JSON_FORMAT)(entry),
      '{"authority":"productpage:9080","bytes_received":0,"bytes_sent":5293,"connection_termination_details":null,' +
        '"downstream_local_address":"10.96.10.20:9080","downstream_remote_address":"10.244.0.11:44224","duration":35,' +
        '"method":"GET","path":"/productpage?u=normal","protocol":"HTTP/1.1",' +
        '"request_id":"5b7c4a1e-93f6-9b5c-a42f-7d5d6c0e1f20","requested_server_name":null,"response_code":200,' +
        '"response_code_details":"via_upstream","response_flags":"-","route_name":"default",' +
        '"start_time":"2024-03-15T09:26:53.589Z","upstream_cluster":"outbound|9080||productpage.default.svc.cluster.local",' +
        '"upstream_host":"10.244.0.12:9080","upstream_local_address":"10.244.0.11:44226","upstream_service_time":"34",' +
        '"upstream_transport_failure_reason":null,"user_agent":"curl/8.5.0","x_forwarded_for":null}\n',
    );
  });

  it('drops unspecified fields with omit_empty_values', () => {
    const line = compile(ISTIO_JSON_FORMAT, { omitEmptyValues: true })(entry);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.equal('x_forwarded_for' in parsed, false);
    assert.equal('requested_server_name' in parsed, false);
    assert.equal(parsed['response_code'], 200);
  });
});

describe('json_format', () => {
  const cases: { name: string; spec: JsonFormatSpec; entry?: AccessLogEntry; want: string }[] = [
    {
      name: 'mixed templates become strings with - for unspecified parts',
      spec: { summary: '%RESPONSE_CODE% %ROUTE_NAME% %REQ(X-MISSING)%' },
      want: '{"summary":"200 default -"}',
    },
    { name: 'plain strings and JSON values are copied', spec: { b: true, a: 'static', n: 3, z: null }, want: '{"a":"static","b":true,"n":3,"z":null}' },
    { name: '%% alone is a plain string', spec: { pct: '100%%' }, want: '{"pct":"100%"}' },
    {
      name: 'nested maps and lists are formatted too, keys sorted at each level',
      spec: { up: { host: '%UPSTREAM_HOST%', cluster: '%UPSTREAM_CLUSTER_RAW%' }, codes: ['%RESPONSE_CODE%', 'x'] },
      want:
        '{"codes":[200,"x"],"up":{"cluster":"outbound|9080||productpage.default.svc.cluster.local","host":"10.244.0.12:9080"}}',
    },
    {
      name: 'values are JSON-escaped',
      spec: { ua: '%REQ(USER-AGENT)%', both: 'ua=%REQ(USER-AGENT)%' },
      entry: { ...entry, requestHeaders: headers({ 'user-agent': 'a "quoted"\\ agent\n' }) },
      want: '{"both":"ua=a \\"quoted\\"\\\\ agent\\n","ua":"a \\"quoted\\"\\\\ agent\\n"}',
    },
    {
      name: 'metadata keeps its structure',
      spec: { peer: '%DYNAMIC_METADATA(istio:peer)%' },
      entry: { ...entry, dynamicMetadata: { istio: { peer: { app: 'productpage', v: 1 } } } },
      want: '{"peer":{"app":"productpage","v":1}}',
    },
    { name: 'ports are numbers', spec: { port: '%DOWNSTREAM_REMOTE_PORT%' }, want: '{"port":44224}' },
    {
      name: 'flags are strings',
      spec: { flags: '%RESPONSE_FLAGS%' },
      entry: { ...entry, responseFlags: ResponseFlag.UH },
      want: '{"flags":"UH"}',
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(compile(c.spec)(c.entry ?? entry), `${c.want}\n`));
  }

  it('reports every bad template with the key it is under', () => {
    const r = compileJsonFormat({ a: '%NOPE%', nested: { b: '%REQ%' }, list: ['ok', '%PROTOCOL:2%'] });
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.ok ? [] : r.issues.map((i) => [i.path, i.message]),
      [
        ['json_format.a', 'Not supported field in StreamInfo: NOPE'],
        ['json_format.list[1]', 'PROTOCOL does not take any parameters or length'],
        ['json_format.nested.b', 'REQ requires parameters'],
      ],
    );
  });
});
