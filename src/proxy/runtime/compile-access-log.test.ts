import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { AccessLogSchema } from '../../xds/gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { compileAccessLog, type CompiledAccessLog } from './compile-access-log.js';
import type { AccessLogEntry } from '../http/access-log/access-log-entry.js';
import { passingLogs } from '../http/access-log/access-log-filter.js';

const FILE_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const CEL_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter';

function celFilter(expression: string): JsonObject {
  return { extension_filter: { name: 'envoy.access_loggers.extension_filters.cel', typed_config: { '@type': CEL_TYPE, expression } } };
}

function logger(extra: JsonObject = {}, file: JsonObject = { path: '/tmp/x.log' }): JsonObject {
  return { name: 'envoy.access_loggers.file', typed_config: { '@type': FILE_TYPE, ...file }, ...extra };
}

function compile(json: JsonObject): { log: CompiledAccessLog | undefined; problems: string[] } {
  const problems: string[] = [];
  const log = compileAccessLog(fromJson(AccessLogSchema, json, { registry: XDS_REGISTRY }), 'hcm.access_log[0]', problems);
  return { log, problems };
}

const ENTRY: AccessLogEntry = { startTime: 0, responseFlags: 0, bytesReceived: 0, bytesSent: 0, responseCode: 503 };

describe('compileAccessLog: CEL filter', () => {
  const cases: { name: string; expression: string; attributes: Record<string, unknown>; logs: boolean }[] = [
    { name: 'a failing request passes response.code >= 400', expression: 'response.code >= 400', attributes: { response: { code: 503 } }, logs: true },
    { name: 'a successful request does not', expression: 'response.code >= 400', attributes: { response: { code: 200 } }, logs: false },
    { name: 'a missing attribute is an evaluation error: not logged', expression: 'response.code >= 400', attributes: { connection: { mtls: true } }, logs: false },
    { name: 'a non-boolean result is not logged', expression: 'response.code', attributes: { response: { code: 503 } }, logs: false },
    { name: 'headers and string functions', expression: "request.headers['x-debug'] == 'on' || request.url_path.startsWith('/admin')", attributes: { request: { headers: { 'x-debug': 'on' }, url_path: '/' } }, logs: true },
    { name: 'a header that is absent is an error, not a match', expression: "request.headers['x-debug'] == 'on'", attributes: { request: { headers: {} } }, logs: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { log, problems } = compile(logger({ filter: celFilter(c.expression) }));
      assert.deepEqual(problems, []);
      assert.ok(log?.filter !== undefined);
      assert.equal(log.filter(c.attributes), c.logs);
      assert.equal(log.path, '/tmp/x.log');
      assert.match(log.format(ENTRY), /503/);
    });
  }

  it('without a filter: no predicate, every stream is logged', () => {
    const { log, problems } = compile(logger());
    assert.deepEqual(problems, []);
    assert.equal(log?.filter, undefined);
  });
});

describe('compileAccessLog: refused (NACK) with the field named', () => {
  const cases: { name: string; json: JsonObject; problems: string[] }[] = [
    {
      name: 'a CEL expression that does not parse',
      json: logger({ filter: celFilter('response.code >= ') }),
      problems: ['hcm.access_log[0].filter.extension_filter.typed_config.expression: cannot parse CEL expression "response.code >= ": Unexpected token: EOF'],
    },
    {
      name: 'an empty expression',
      json: logger({ filter: celFilter('') }),
      problems: ['hcm.access_log[0].filter.extension_filter.typed_config.expression: cannot parse CEL expression "": Unexpected token: EOF'],
    },
    {
      name: 'another filter kind',
      json: logger({ filter: { status_code_filter: { comparison: { op: 'GE', value: { default_value: 400, runtime_key: 'x' } } } } }),
      problems: ['hcm.access_log[0].filter: access log filter status_code_filter is not supported (only the CEL extension filter)'],
    },
    {
      name: 'an extension filter of another type',
      json: logger({ filter: { extension_filter: { name: 'x', typed_config: { '@type': FILE_TYPE, path: '/x' } } } }),
      problems: ['hcm.access_log[0].filter.extension_filter.typed_config: unsupported access log extension filter envoy.extensions.access_loggers.file.v3.FileAccessLog'],
    },
    {
      name: 'a bad filter and a bad logger: both reported',
      json: logger({ filter: celFilter('(') }, { path: '' }),
      problems: [
        'hcm.access_log[0].filter.extension_filter.typed_config.expression: cannot parse CEL expression "(": Unexpected token: EOF',
        'hcm.access_log[0].typed_config.path: must not be empty',
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { log, problems } = compile(c.json);
      assert.equal(log, undefined);
      assert.deepEqual(problems, c.problems);
    });
  }
});

describe('compileAccessLog: json_format', () => {
  it('log_format.json_format prints one JSON object per line', () => {
    const { log, problems } = compile(logger({}, { path: '/tmp/x.json', log_format: { json_format: { code: '%RESPONSE_CODE%', flags: '%RESPONSE_FLAGS%' } } }));
    assert.deepEqual(problems, []);
    assert.deepEqual(JSON.parse(log?.format(ENTRY) ?? ''), { code: 503, flags: '-' });
  });
});

describe('passingLogs', () => {
  const all = { path: 'a' };
  const errors = { path: 'b', filter: (a: Record<string, unknown>) => (a['code'] as number) >= 400 };
  const cases: { name: string; logs: readonly { path: string; filter?: (a: Record<string, unknown>) => boolean }[]; code: number; want: string[]; built: number }[] = [
    { name: 'no filters: the same list, attributes never built', logs: [all], code: 200, want: ['a'], built: 0 },
    { name: 'a filter that fails drops only its logger', logs: [all, errors], code: 200, want: ['a'], built: 1 },
    { name: 'a filter that passes keeps it', logs: [errors, all], code: 500, want: ['b', 'a'], built: 1 },
    { name: 'every logger filtered out: empty', logs: [errors, errors], code: 204, want: [], built: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let built = 0;
      const out = passingLogs(c.logs, c.code, (code) => {
        built++;
        return { code };
      });
      assert.deepEqual(out.map((l) => l.path), c.want);
      assert.equal(built, c.built);
      if (c.built === 0) assert.equal(out, c.logs);
    });
  }
});

describe('compileAccessLog: omit_empty_values (Istio Telemetry file provider omitEmptyValues)', () => {
  it("empty operators print '' instead of '-' in text, and null keys are left out of JSON", () => {
    const text = compile(logger({}, { path: '/tmp/x.log', logFormat: { textFormat: '[%REQ(X-MISSING)%] %RESPONSE_CODE%\n', omitEmptyValues: true } }));
    assert.deepEqual(text.problems, []);
    assert.equal(text.log?.format(ENTRY), '[] 503\n');
    const plain = compile(logger({}, { path: '/tmp/x.log', logFormat: { textFormat: '[%REQ(X-MISSING)%] %RESPONSE_CODE%\n' } }));
    assert.equal(plain.log?.format(ENTRY), '[-] 503\n');
    const json = compile(logger({}, { path: '/tmp/x.log', logFormat: { jsonFormat: { missing: '%REQ(X-MISSING)%', code: '%RESPONSE_CODE%' }, omitEmptyValues: true } }));
    assert.deepEqual(JSON.parse(json.log?.format(ENTRY) ?? ''), { code: 503 });
  });
});
