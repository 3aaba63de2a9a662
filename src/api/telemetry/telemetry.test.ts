import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { celSyntaxError } from '../validation/cel.js';
import { effectiveMode, TELEMETRY } from './telemetry.js';

const K = [TELEMETRY];
const head = (spec: string, meta = ''): string =>
  `apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: tel, namespace: istio-system${meta}}\nspec:\n${spec}`;

describe('Telemetry', () => {
  it('accepts the Istio docs examples', () => {
    // mesh-wide tracing with custom tags
    expectValid(
      head(`  tracing:
  - providers: [{name: zipkin}]
    randomSamplingPercentage: 10.5
    customTags:
      my_new_foo_tag:
        literal: {value: "foo"}
      cluster_id:
        environment: {name: ISTIO_META_CLUSTER_ID, defaultValue: unknown}
      user_agent:
        header: {name: user-agent}
      route:
        formatter: {value: "%UPSTREAM_CLUSTER%"}
    useRequestIdForTraceSampling: true
    match: {mode: SERVER}
`),
      K,
    );
    // metrics overrides and access logging with a CEL filter
    expectValid(
      head(`  selector: {matchLabels: {app: reviews}}
  metrics:
  - providers: [{name: prometheus}]
    reportingInterval: 15s
    overrides:
    - match: {metric: REQUEST_COUNT, mode: CLIENT}
      tagOverrides:
        request_host: {value: "request.host"}
        response_code: {operation: REMOVE}
    - match: {customMetric: my_metric}
      disabled: true
  accessLogging:
  - providers: [{name: envoy}]
    filter:
      expression: "response.code >= 400 || xds.cluster_name.startsWith('outbound') && !has(request.host)"
  - disabled: true
`),
      K,
    );
    expectValid(
      `apiVersion: telemetry.istio.io/v1alpha1\nkind: Telemetry\nmetadata: {name: t}\nspec:\n  targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}\n  accessLogging: [{}]\n`,
      K,
    );
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'empty provider name', spec: '  accessLogging:\n  - providers: [{name: envoy}, {}]\n', path: 'spec.accessLogging[0].providers[1].name', message: 'providers.name may not be empty' },
    { name: 'sampling over 100', spec: '  tracing:\n  - randomSamplingPercentage: 100.1\n', path: 'spec.tracing[0].randomSamplingPercentage', message: 'randomSamplingPercentage must be in range [0.0, 100.0]' },
    { name: 'negative sampling', spec: '  tracing:\n  - randomSamplingPercentage: -1\n', path: 'spec.tracing[0].randomSamplingPercentage', message: 'randomSamplingPercentage must be in range [0.0, 100.0]' },
    { name: 'empty tag name', spec: '  tracing:\n  - customTags:\n      "": {literal: {value: a}}\n', path: 'spec.tracing[0].customTags[""]', message: 'tag name may not be empty' },
    { name: 'empty literal', spec: '  tracing:\n  - customTags:\n      a: {literal: {}}\n', path: 'spec.tracing[0].customTags.a.literal.value', message: 'literal tag value may not be empty' },
    { name: 'empty header tag', spec: '  tracing:\n  - customTags:\n      a: {header: {name: ""}}\n', path: 'spec.tracing[0].customTags.a.header.name', message: 'header tag name may not be empty' },
    { name: 'empty environment tag', spec: '  tracing:\n  - customTags:\n      a: {environment: {}}\n', path: 'spec.tracing[0].customTags.a.environment.name', message: 'environment tag name may not be empty' },
    {
      name: 'two tag types',
      spec: '  tracing:\n  - customTags:\n      a: {literal: {value: x}, header: {name: y}}\n',
      path: 'spec.tracing[0].customTags.a',
      message: 'only one of literal, environment, header, formatter may be set',
    },
    {
      name: 'UPSERT without value',
      spec: '  metrics:\n  - overrides:\n    - tagOverrides:\n        foo: {}\n',
      path: 'spec.metrics[0].overrides[0].tagOverrides.foo.value',
      message: 'tagOverrides.value must be set when operation is UPSERT',
    },
    {
      name: 'REMOVE with value',
      spec: '  metrics:\n  - overrides:\n    - tagOverrides:\n        foo: {operation: REMOVE, value: x}\n',
      path: 'spec.metrics[0].overrides[0].tagOverrides.foo.value',
      message: 'tagOverrides.value may only be set when operation is UPSERT',
    },
    { name: 'empty custom metric', spec: '  metrics:\n  - overrides:\n    - match: {customMetric: ""}\n', path: 'spec.metrics[0].overrides[0].match.customMetric', message: 'customMetric may not be empty' },
    {
      name: 'metric and customMetric',
      spec: '  metrics:\n  - overrides:\n    - match: {metric: REQUEST_COUNT, customMetric: x}\n',
      path: 'spec.metrics[0].overrides[0].match',
      message: 'only one of metric, customMetric may be set',
    },
    { name: 'unknown metric', spec: '  metrics:\n  - overrides:\n    - match: {metric: REQUESTS}\n', path: 'spec.metrics[0].overrides[0].match.metric', message: 'must be one of ALL_METRICS' },
    {
      name: 'bad CEL filter',
      spec: '  accessLogging:\n  - filter: {expression: "response.code >= "}\n',
      path: 'spec.accessLogging[0].filter.expression',
      message: 'must be a valid CEL expression, ERROR: <input>:1:18: Syntax error: Unexpected token: EOF',
    },
    { name: 'empty CEL filter', spec: '  accessLogging:\n  - filter: {}\n', path: 'spec.accessLogging[0].filter.expression', message: 'must be a valid CEL expression' },
    { name: 'empty metrics provider', spec: '  metrics:\n  - providers: [{name: ""}]\n', path: 'spec.metrics[0].providers[0].name', message: 'providers.name may not be empty' },
    { name: 'bad reporting interval', spec: '  metrics:\n  - reportingInterval: 10\n', path: 'spec.metrics[0].reportingInterval', message: 'must be a string' },
    { name: 'wildcard selector', spec: '  selector: {matchLabels: {app: "*"}}\n', path: 'spec.selector.matchLabels.app', message: 'wildcard is not supported in selector: "app=*"' },
    { name: 'unknown field', spec: '  tracing:\n  - sampling: 10\n', path: 'spec.tracing[0].sampling', message: 'unknown field "sampling"' },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec), K, [{ path: c.path, message: c.message }]);
    });

  it('warns about multiple tracing configs, multiple providers and empty tag override names', () => {
    const w = expectValid(
      head('  tracing:\n  - providers: [{name: a}, {name: b}]\n  - {}\n  metrics:\n  - overrides:\n    - tagOverrides:\n        "": {operation: REMOVE}\n'),
      K,
    );
    assert.deepEqual(
      w.map((i) => [i.path, i.message]).sort(),
      [
        ['spec.metrics[0].overrides[0].tagOverrides[""]', 'tagOverrides.name may not be empty'],
        ['spec.tracing', 'multiple tracing is not currently supported'],
        ['spec.tracing[0].providers', 'multiple providers is not currently supported'],
      ],
    );
  });

  it('rejects the dry-run annotation', () => {
    expectInvalid(head('  {}\n', ', annotations: {"istio.io/dry-run": "true"}'), K, [
      { path: 'metadata.annotations["istio.io/dry-run"]', message: 'istio-system/tel has unsupported annotation istio.io/dry-run, please remove the annotation' },
    ]);
  });

  it('parses CEL syntax like cel-go', () => {
    const ok = [
      'true',
      'response.code >= 400',
      "request.headers['user-agent'].startsWith('curl') ? true : false",
      'a in [1, 2u, 3.5, -4e3, 0x1F]',
      '{"a": 1, "b": [r"raw\\d", b"bytes"]}.size() > 0',
      'x.all(v, v > 0) && x.exists(k, k == "a")',
      "'''triple\nquoted''' + \"esc\\n\\u00e9\"",
      '!!a || -b < 0 // comment',
      'has(a.b.c)',
    ];
    for (const e of ok) assert.equal(celSyntaxError(e), undefined, e);
    const bad = ['', 'a ==', '(a', 'a.', '[1, 2', 'a b', '"unterminated', 'if', 'has(a)', 'x.all(1, v)', 'a ? b', '"\\q"', 'a $ b'];
    for (const e of bad) assert.match(celSyntaxError(e) ?? '', /^ERROR: <input>:\d+:\d+: Syntax error: /, e);
    assert.equal(celSyntaxError('has(a)'), 'ERROR: <input>:1:5: Syntax error: invalid argument to has() macro');
    // Known gap of @marcbachmann/cel-js: message construction, which cel-go parses, is reported as an error.
    assert.match(celSyntaxError('google.protobuf.Duration{seconds: 5}') ?? '', /^ERROR: <input>:1:25: Syntax error: /);
  });

  it('resolves the default workload mode', () => {
    assert.equal(effectiveMode(undefined), 'CLIENT_AND_SERVER');
    assert.equal(effectiveMode({ mode: 'CLIENT' }), 'CLIENT');
  });
});
