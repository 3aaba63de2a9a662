// Access logging from the Telemetry API in the listeners a proxy receives (Istio's accessLogBuilder,
// pilot/pkg/networking/core/accesslog.go, and Telemetries.AccessLogging / mergeLogs, model/telemetry.go): which
// loggers each HCM and tcp_proxy carries, by listener. Goldens hold the distinct access_log lists per listener
// (config_dump JSON) and the translation issues, for a sidecar with HTTP and TCP ports on both sides.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonValue } from '@bufbuild/protobuf';
import { translate } from '../../../src/translate/translate.js';
import { parseMeshConfig, type MeshConfig } from '../../../src/model/mesh-config.js';
import { toDumpJson } from '../../../src/xds/codec.js';
import { ListenerSchema } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { Issue } from '../../../src/lib/issue.js';
import { assertGolden } from '../../support/golden.js';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../../support/mesh.js';
import { k8sService, telemetryYaml, REVIEWS_AND_RATINGS } from './harness.js';

const SERVICES = REVIEWS_AND_RATINGS;
const REVIEWS: TestProxyOptions = { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, ip: '10.1.0.5' };
const RATINGS: TestProxyOptions = { name: 'ratings-v1', labels: { app: 'ratings' }, ip: '10.1.0.6' };

const telemetry = telemetryYaml;

function mesh(doc: object = {}): MeshConfig {
  const r = parseMeshConfig(doc);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  return r.value;
}

type Dump = { name?: string; typedConfig?: { '@type'?: string; accessLog?: JsonValue[] } };
type ChainDump = { filters?: Dump[] };
type ListenerDump = { name?: string; filterChains?: ChainDump[]; defaultFilterChain?: ChainDump };

interface Logged {
  /** Listener -> the distinct access_log lists of its HCMs and tcp_proxies ([] when they have none). */
  readonly byListener: Record<string, JsonValue[][]>;
  readonly issues: readonly Issue[];
}

function logged(yaml: string, proxy: TestProxyOptions, m: MeshConfig = mesh()): Logged {
  const { snapshot } = meshFromYaml(yaml, { mesh: m });
  const r = translate(snapshot, testProxy(proxy));
  const byListener: Record<string, JsonValue[][]> = {};
  for (const l of r.listeners) {
    const d = toDumpJson(ListenerSchema, l) as ListenerDump;
    const seen = new Map<string, JsonValue[]>();
    for (const c of [...(d.filterChains ?? []), ...(d.defaultFilterChain !== undefined ? [d.defaultFilterChain] : [])]) {
      for (const f of c.filters ?? []) {
        if (f.name !== 'envoy.filters.network.http_connection_manager' && f.name !== 'envoy.filters.network.tcp_proxy') continue;
        const logs = f.typedConfig?.accessLog ?? [];
        seen.set(JSON.stringify(logs), logs);
      }
    }
    byListener[d.name ?? ''] = [...seen.values()];
  }
  return { byListener, issues: r.issues.filter((i) => i.path.includes('accessLogging')) };
}

/** The logger paths (and filter expressions) of every listener, for assertions that read like the feature. */
function summary(l: Logged): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, lists] of Object.entries(l.byListener)) {
    out[name] = lists.map((logs) =>
      (logs as { typedConfig?: { path?: string }; filter?: { extensionFilter?: { typedConfig?: { expression?: string } } } }[])
        .map((a) => `${a.typedConfig?.path ?? '?'}${a.filter !== undefined ? ` if ${a.filter.extensionFilter?.typedConfig?.expression ?? '?'}` : ''}`)
        .join(', '),
    );
  }
  return out;
}

const LISTENERS = ['0.0.0.0_5432', '0.0.0.0_9080', '10.96.0.20_6379', 'virtualInbound', 'virtualOutbound'];

function everywhere(value: string): Record<string, string[]> {
  return Object.fromEntries(LISTENERS.map((l) => [l, [value]]));
}

const MESH_ENVOY = telemetry('istio-system', 'mesh-default', `  accessLogging:
  - providers: [{name: envoy}]`);
const ERRORS_ONLY = telemetry('istio-system', 'mesh-default', `  accessLogging:
  - providers: [{name: envoy}]
    filter: {expression: "response.code >= 400"}`);
const CLIENT_ONLY = telemetry('istio-system', 'mesh-default', `  accessLogging:
  - match: {mode: CLIENT}
    providers: [{name: envoy}]`);
const REVIEWS_OFF = telemetry('default', 'reviews-off', `  selector: {matchLabels: {app: reviews}}
  accessLogging:
  - disabled: true`);
const JSON_PROVIDER = telemetry('default', 'json-logs', `  accessLogging:
  - providers: [{name: json-file}]`);
const UNSUPPORTED = telemetry('default', 'als', `  accessLogging:
  - providers: [{name: otel-als}, {name: envoy}, {name: nope}]`);

const CUSTOM_PROVIDERS = {
  extensionProviders: [
    { name: 'json-file', envoyFileAccessLog: { path: '/var/log/access.json', logFormat: { labels: { code: '%RESPONSE_CODE%', path: '%REQ(:PATH)%', peer: '%DOWNSTREAM_REMOTE_ADDRESS%' } } } },
    { name: 'otel-als', envoyOtelAls: { service: 'otel.istio-system.svc.cluster.local', port: 4317 } },
  ],
};

describe('access logging: mesh config only', () => {
  it('no Telemetry and no accessLogFile: no loggers', () => {
    assert.deepEqual(summary(logged(SERVICES, REVIEWS)), Object.fromEntries(LISTENERS.map((l) => [l, ['']])));
  });

  it('accessLogFile alone keeps working on every listener', () => {
    assert.deepEqual(summary(logged(SERVICES, REVIEWS, mesh({ accessLogFile: '/tmp/a.log' }))), everywhere('/tmp/a.log'));
  });

  it('defaultProviders.accessLogging [envoy] without any Telemetry logs to stdout everywhere', () => {
    assert.deepEqual(summary(logged(SERVICES, REVIEWS, mesh({ defaultProviders: { accessLogging: ['envoy'] } }))), everywhere('/dev/stdout'));
  });
});

describe('access logging: Telemetry API', () => {
  it('golden: a root-namespace Telemetry enabling `envoy` logs every HCM and tcp_proxy to /dev/stdout in Istio’s text format', () => {
    const l = logged(`${SERVICES}\n${MESH_ENVOY}`, REVIEWS);
    assertGolden('listener/access-log-mesh-envoy', l);
    assert.deepEqual(summary(l), everywhere('/dev/stdout'));
  });

  it('the built-in `envoy` provider follows the mesh’s accessLogEncoding; Telemetry replaces accessLogFile', () => {
    const l = logged(`${SERVICES}\n${MESH_ENVOY}`, REVIEWS, mesh({ accessLogFile: '/tmp/a.log', accessLogEncoding: 'JSON' }));
    assert.deepEqual(summary(l), everywhere('/dev/stdout'));
    const first = l.byListener['virtualInbound']?.[0]?.[0] as { typedConfig?: { logFormat?: { jsonFormat?: Record<string, string> } } };
    assert.equal(first.typedConfig?.logFormat?.jsonFormat?.['response_code'], '%RESPONSE_CODE%');
  });

  it('golden: filter.expression becomes Envoy’s CEL access log filter', () => {
    const l = logged(`${SERVICES}\n${ERRORS_ONLY}`, REVIEWS);
    assertGolden('listener/access-log-filter', l);
    assert.deepEqual(summary(l), everywhere('/dev/stdout if response.code >= 400'));
  });

  it('golden: CLIENT only: outbound listeners log, the inbound listener does not', () => {
    const l = logged(`${SERVICES}\n${CLIENT_ONLY}`, REVIEWS);
    assertGolden('listener/access-log-client-only', l);
    assert.deepEqual(summary(l), { ...everywhere('/dev/stdout'), virtualInbound: [''] });
  });

  it('CLIENT only: the SERVER side, which no Telemetry configures, falls back to accessLogFile (as Istio)', () => {
    const l = logged(`${SERVICES}\n${CLIENT_ONLY}`, REVIEWS, mesh({ accessLogFile: '/tmp/a.log' }));
    assert.deepEqual(summary(l), { ...everywhere('/dev/stdout'), virtualInbound: ['/tmp/a.log'] });
  });

  it('a gateway logs as the CLIENT', () => {
    const gw = `${SERVICES}
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
---
${CLIENT_ONLY}`;
    const l = logged(gw, { type: 'router', name: 'ingress', labels: { istio: 'ingressgateway' }, ip: '10.1.0.9' });
    assert.deepEqual(summary(l), { '0.0.0.0_8080': ['/dev/stdout'] });
  });

  it('golden: a workload Telemetry disabling access logging turns it off for that workload only, accessLogFile included', () => {
    const m = mesh({ accessLogFile: '/tmp/a.log' });
    const l = logged(`${SERVICES}\n${MESH_ENVOY}\n${REVIEWS_OFF}`, REVIEWS, m);
    assertGolden('listener/access-log-workload-disabled', l);
    assert.deepEqual(summary(l), Object.fromEntries(LISTENERS.map((n) => [n, ['']])));
    assert.deepEqual(summary(logged(`${SERVICES}\n${MESH_ENVOY}\n${REVIEWS_OFF}`, RATINGS, m)), everywhere('/dev/stdout'));
  });

  it('golden: a custom envoyFileAccessLog provider with JSON labels', () => {
    const l = logged(`${SERVICES}\n${JSON_PROVIDER}`, REVIEWS, mesh(CUSTOM_PROVIDERS));
    assertGolden('listener/access-log-json-provider', l);
    assert.deepEqual(summary(l), everywhere('/var/log/access.json'));
  });

  it('a text logFormat gets Istio’s trailing newline; a provider without a path logs to /dev/stdout', () => {
    const m = mesh({ extensionProviders: [{ name: 'short', envoyFileAccessLog: { logFormat: { text: '%RESPONSE_CODE% %REQ(:PATH)%' } } }] });
    const l = logged(`${SERVICES}\n${telemetry('default', 't', '  accessLogging:\n  - providers: [{name: short}]')}`, REVIEWS, m);
    assert.deepEqual(summary(l), everywhere('/dev/stdout'));
    const first = l.byListener['virtualInbound']?.[0]?.[0] as { typedConfig?: { logFormat?: { textFormatSource?: { inlineString?: string } } } };
    assert.equal(first.typedConfig?.logFormat?.textFormatSource?.inlineString, '%RESPONSE_CODE% %REQ(:PATH)%\n');
  });

  it('unsupported provider kinds and unknown names are warnings naming the Telemetry; supported ones still log', () => {
    const l = logged(`${SERVICES}\n${UNSUPPORTED}`, REVIEWS, mesh(CUSTOM_PROVIDERS));
    assert.deepEqual(summary(l), everywhere('/dev/stdout'));
    assert.deepEqual(
      l.issues.map((i) => [i.severity, i.path, i.message]),
      [
        ['warning', 'Telemetry default/als spec.accessLogging[0].providers[0]', 'access log provider "otel-als" is of kind envoyOtelAls, which Isthmus does not support (only envoyFileAccessLog); nothing is logged through it'],
        ['warning', 'Telemetry default/als spec.accessLogging[0].providers[2]', 'access log provider "nope" is not an access log provider of meshConfig.extensionProviders; it is ignored'],
      ],
    );
  });

  it('a Telemetry naming only an unsupported provider logs nothing (it replaces accessLogFile) and says why', () => {
    const only = telemetry('default', 'als', '  accessLogging:\n  - providers: [{name: otel-als}]');
    const l = logged(`${SERVICES}\n${only}`, REVIEWS, mesh({ ...CUSTOM_PROVIDERS, accessLogFile: '/tmp/a.log' }));
    assert.deepEqual(summary(l), Object.fromEntries(LISTENERS.map((n) => [n, ['']])));
    assert.equal(l.issues.length, 1);
  });
});
