// Telemetry API tracing in the listeners a proxy receives (pilot/pkg/networking/core/tracing.go,
// pilot/pkg/model/telemetry.go Telemetries.Tracing): the HCM `tracing` field per listener class, from an
// `opentelemetry` (OTLP/HTTP) or `zipkin` extension provider, with Istio's sampling and custom tags, inherited
// from the root namespace to the namespace to the workload. Goldens hold the `tracing` field of every HCM of a
// sidecar (and a gateway), by listener and chain.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { assertGolden } from '../../support/golden.js';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../../support/mesh.js';
import { translate } from '../../../src/translate/translate.js';
import { toDumpJson } from '../../../src/xds/codec.js';
import { ListenerSchema } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import { DEFAULT_MESH_CONFIG, parseMeshConfig, type MeshConfig } from '../../../src/model/mesh-config.js';
import { mergeTracing } from '../../../src/translate/telemetry/tracing-spec.js';
import { k8sService, telemetryYaml } from './harness.js';

const SERVICES = [
  k8sService('reviews', [{ port: 9080, name: 'http' }]),
  k8sService('ratings', [{ port: 9080, name: 'http' }], { clusterIP: '10.96.0.20' }),
  k8sService('otel-collector', [{ port: 4318, name: 'http-otlp' }], { ns: 'observability', clusterIP: '10.96.0.40' }),
  k8sService('zipkin', [{ port: 9411, name: 'http-zipkin' }], { ns: 'istio-system', clusterIP: '10.96.0.41' }),
].join('\n');
const REVIEWS: TestProxyOptions = { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, ip: '10.1.0.5' };

function meshWith(doc: unknown): MeshConfig {
  const r = parseMeshConfig(doc);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  return r.value;
}

const MESH = meshWith({
  extensionProviders: [
    { name: 'otel', opentelemetry: { service: 'otel-collector.observability.svc.cluster.local', port: 4318, http: { path: '/v1/traces', timeout: '2s', headers: [{ name: 'x-tenant', value: 'mesh' }] } } },
    { name: 'zipkin', zipkin: { service: 'istio-system/zipkin.istio-system.svc.cluster.local', port: 9411 } },
    { name: 'ghost', opentelemetry: { service: 'nowhere.example.com', port: 4318, http: { path: '/v1/traces' } } },
  ],
});

const telemetry = telemetryYaml;

const ROOT_10 = telemetry('istio-system', 'mesh-default', `  tracing:
  - providers: [{name: otel}]
    randomSamplingPercentage: 10`);
const WORKLOAD_100 = telemetry('default', 'reviews-all', `  selector: {matchLabels: {app: reviews}}
  tracing:
  - randomSamplingPercentage: 100`);
const CUSTOM_TAGS = telemetry('default', 'ns-tags', `  tracing:
  - customTags:
      team: {literal: {value: bookinfo}}
      user: {header: {name: x-user, defaultValue: anonymous}}
      pod: {environment: {name: POD_NAME, defaultValue: unknown}}
    enableIstioTags: false`);

type Dump = { name?: string; filterChains?: { name?: string; filters?: { typedConfig?: JsonObject }[] }[]; defaultFilterChain?: { name?: string; filters?: { typedConfig?: JsonObject }[] } };

/** `listener/chain` -> the HCM's tracing JSON (null when the HCM has none). */
function tracingByChain(yaml: string, proxy: TestProxyOptions, mesh: MeshConfig = MESH): Record<string, JsonValue> {
  const { snapshot } = meshFromYaml(yaml, { mesh });
  const out: Record<string, JsonValue> = {};
  for (const l of translate(snapshot, testProxy(proxy)).listeners) {
    const d = toDumpJson(ListenerSchema, l) as Dump;
    for (const c of [...(d.filterChains ?? []), ...(d.defaultFilterChain !== undefined ? [d.defaultFilterChain] : [])]) {
      for (const f of c.filters ?? []) {
        const tc = f.typedConfig;
        if (tc?.['@type'] !== 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager') continue;
        out[`${d.name ?? ''}/${c.name ?? ''}`] = tc['tracing'] ?? null;
      }
    }
  }
  return out;
}

function values(m: Record<string, JsonValue>): JsonValue[] {
  const seen = new Map<string, JsonValue>();
  for (const v of Object.values(m)) seen.set(JSON.stringify(v), v);
  return [...seen.values()];
}

const sampling = (v: JsonValue): unknown => (v as { randomSampling?: { value?: number } } | null)?.randomSampling?.value;

describe('HCM tracing from the Telemetry API', () => {
  it('no Telemetry tracing and no default provider: no HCM has tracing', () => {
    assert.deepEqual(values(tracingByChain(SERVICES, REVIEWS)), [null]);
  });

  it('golden: a root-namespace Telemetry with an opentelemetry provider and 10 % sampling', () => {
    const t = tracingByChain(`${SERVICES}\n${ROOT_10}`, REVIEWS);
    assertGolden('listener/tracing-root-otel-10', t);
    const inbound = t['virtualInbound/0.0.0.0_9080'] as JsonObject;
    const outbound = t['0.0.0.0_9080/'] as JsonObject | undefined;
    assert.ok(outbound !== undefined, Object.keys(t).join(', '));
    for (const side of [inbound, outbound]) {
      assert.deepEqual(side['clientSampling'], { value: 100 });
      assert.deepEqual(side['overallSampling'], { value: 100 });
      assert.deepEqual(side['randomSampling'], { value: 10 });
      const provider = side['provider'] as JsonObject;
      assert.equal(provider['name'], 'envoy.tracers.opentelemetry');
      assert.deepEqual(provider['typedConfig'], {
        '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
        httpService: {
          httpUri: { uri: 'otel-collector.observability.svc.cluster.local/v1/traces', cluster: 'outbound|4318||otel-collector.observability.svc.cluster.local', timeout: '2s' },
          requestHeadersToAdd: [{ header: { key: 'x-tenant', value: 'mesh' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
        },
        serviceName: 'reviews.default',
      });
    }
  });

  it('golden: a workload Telemetry raising sampling to 100 % keeps the root provider', () => {
    const t = tracingByChain(`${SERVICES}\n${ROOT_10}\n${WORKLOAD_100}`, REVIEWS);
    assertGolden('listener/tracing-workload-100', t);
    assert.deepEqual(values(t).map(sampling), [100]);
    // Another workload of the namespace keeps the root's 10 %.
    const other = tracingByChain(`${SERVICES}\n${ROOT_10}\n${WORKLOAD_100}`, { name: 'ratings-v1', labels: { app: 'ratings' }, ip: '10.1.0.6' });
    assert.deepEqual(values(other).map(sampling), [10]);
  });

  it('golden: namespace custom tags replace Istio’s tags, sorted by name', () => {
    const t = tracingByChain(`${SERVICES}\n${ROOT_10}\n${CUSTOM_TAGS}`, REVIEWS);
    assertGolden('listener/tracing-custom-tags', t);
    const tags = (values(t)[0] as JsonObject)['customTags'];
    assert.deepEqual(tags, [
      { tag: 'pod', environment: { name: 'POD_NAME', defaultValue: 'unknown' } },
      { tag: 'team', literal: { value: 'bookinfo' } },
      { tag: 'user', requestHeader: { name: 'x-user', defaultValue: 'anonymous' } },
    ]);
  });

  it('Istio tags by default: canonical service and revision, mesh id, namespace, and the dry-run policy tags', () => {
    const t = values(tracingByChain(`${SERVICES}\n${ROOT_10}`, REVIEWS))[0] as JsonObject;
    const tags = (t['customTags'] as JsonObject[]).map((x) => x['tag']);
    assert.deepEqual(tags, [
      'istio.authorization.dry_run.allow_policy.name',
      'istio.authorization.dry_run.allow_policy.result',
      'istio.authorization.dry_run.deny_policy.name',
      'istio.authorization.dry_run.deny_policy.result',
      'istio.canonical_revision',
      'istio.canonical_service',
      'istio.cluster_id',
      'istio.mesh_id',
      'istio.namespace',
    ]);
    const lit = (name: string): unknown => (t['customTags'] as JsonObject[]).find((x) => x['tag'] === name)?.['literal'];
    assert.deepEqual(lit('istio.canonical_service'), { value: 'reviews' });
    assert.deepEqual(lit('istio.canonical_revision'), { value: 'latest' });
    assert.deepEqual(lit('istio.namespace'), { value: 'default' });
  });

  it('match.mode SERVER applies to inbound listeners only; disableSpanReporting turns a side off', () => {
    const serverOnly = telemetry('default', 'server-only', `  tracing:
  - match: {mode: SERVER}
    randomSamplingPercentage: 50
  - match: {mode: CLIENT}
    disableSpanReporting: true`);
    const t = tracingByChain(`${SERVICES}\n${ROOT_10}\n${serverOnly}`, REVIEWS);
    assert.equal(sampling(t['virtualInbound/0.0.0.0_9080'] ?? null), 50);
    assert.equal(t['0.0.0.0_9080/'], null);
  });

  it('a provider whose service is not in the registry, or that is not a tracer, gives no tracing', () => {
    const ghost = telemetry('istio-system', 'mesh-default', '  tracing:\n  - providers: [{name: ghost}]');
    assert.deepEqual(values(tracingByChain(`${SERVICES}\n${ghost}`, REVIEWS)), [null]);
    const missing = telemetry('istio-system', 'mesh-default', '  tracing:\n  - providers: [{name: nope}]');
    assert.deepEqual(values(tracingByChain(`${SERVICES}\n${missing}`, REVIEWS)), [null]);
  });

  it('defaultProviders.tracing applies with Istio’s 1 % default sampling; zipkin is B3 over Zipkin v2 JSON', () => {
    const mesh = meshWith({ extensionProviders: [{ name: 'zipkin', zipkin: { service: 'zipkin.istio-system.svc.cluster.local', port: 9411 } }], defaultProviders: { tracing: ['zipkin'] } });
    const t = values(tracingByChain(SERVICES, REVIEWS, mesh));
    assert.equal(t.length, 1);
    const v = t[0] as JsonObject;
    assert.deepEqual(v['randomSampling'], { value: 1 });
    assert.deepEqual((v['provider'] as JsonObject)['typedConfig'], {
      '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig',
      collectorCluster: 'outbound|9411||zipkin.istio-system.svc.cluster.local',
      collectorEndpoint: '/api/v2/spans',
      traceId128bit: true,
      sharedSpanContext: false,
      collectorEndpointVersion: 'HTTP_JSON',
      collectorHostname: 'zipkin.istio-system.svc.cluster.local',
    });
  });

  it('gateways report client spans and spawn an upstream span', () => {
    const gw = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ['*']}]
---
`;
    const t = values(tracingByChain(`${SERVICES}\n${ROOT_10}\n${gw}`, { type: 'router', name: 'ingress', namespace: 'istio-system', labels: { istio: 'ingressgateway' } }));
    assert.equal(t.length, 1);
    assert.equal((t[0] as JsonObject)['spawnUpstreamSpan'], true);
  });
});

describe('mergeTracing', () => {
  const mesh: MeshConfig = { ...DEFAULT_MESH_CONFIG, extensionProviders: MESH.extensionProviders ?? [] };
  const cases: { name: string; tracing: Parameters<typeof mergeTracing>[0]; client?: Record<string, unknown>; server?: Record<string, unknown>; none?: true }[] = [
    { name: 'nothing configured', tracing: [], none: true },
    { name: 'no provider anywhere: both sides disabled', tracing: [{ randomSamplingPercentage: 5 }], client: { disabled: true }, server: { disabled: true } },
    { name: 'later entries win field by field', tracing: [{ providers: [{ name: 'otel' }], randomSamplingPercentage: 5 }, { useRequestIdForTraceSampling: false }], client: { disabled: false, randomSamplingPercentage: 5, useRequestIdForTraceSampling: false } },
    { name: 'provider names match case-insensitively', tracing: [{ providers: [{ name: 'OTEL' }] }], client: { disabled: false } },
    { name: 'CLIENT mode leaves the server side alone', tracing: [{ providers: [{ name: 'otel' }] }, { match: { mode: 'CLIENT' }, randomSamplingPercentage: 0 }], client: { randomSamplingPercentage: 0 }, server: { randomSamplingPercentage: undefined } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = mergeTracing(c.tracing, mesh);
      if (c.none === true) return assert.equal(r, undefined);
      assert.ok(r !== undefined);
      for (const [k, v] of Object.entries(c.client ?? {})) assert.equal((r.client as unknown as Record<string, unknown>)[k], v, `client.${k}`);
      for (const [k, v] of Object.entries(c.server ?? {})) assert.equal((r.server as unknown as Record<string, unknown>)[k], v, `server.${k}`);
    });
  }
});

describe('mesh config tracing providers', () => {
  it('names every bad field', () => {
    const r = parseMeshConfig({
      extensionProviders: [
        { name: 'a', opentelemetry: { service: '', port: 0, http: { path: '/v1/traces', timeout: 'soon', headers: [{ name: '', envName: 'X' }] } } },
        { name: 'b', opentelemetry: { service: 'x', port: 4317, http: {}, grpc: {} } },
        { name: 'c', zipkin: { service: 'z', port: 70000 } },
      ],
      defaultProviders: { tracing: 'a' },
    });
    assert.equal(r.ok, false);
    const paths = r.ok ? [] : r.issues.map((i) => i.path).sort();
    assert.deepEqual(paths, [
      'defaultProviders.tracing',
      'extensionProviders[0].opentelemetry.http.headers[0].envName',
      'extensionProviders[0].opentelemetry.http.headers[0].name',
      'extensionProviders[0].opentelemetry.http.timeout',
      'extensionProviders[0].opentelemetry.port',
      'extensionProviders[0].opentelemetry.service',
      'extensionProviders[1].opentelemetry',
      'extensionProviders[2].zipkin.port',
    ]);
  });
});
