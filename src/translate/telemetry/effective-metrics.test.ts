// The istio.stats config a proxy gets from the Telemetry resources in scope: Istio's TestTelemetryFilters
// (pilot/pkg/model/telemetry_test.go) sidecar cases, each checked against Istio's expected stats.PluginConfig
// JSON, then inheritance (root namespace, namespace, workload selector) and listener classes. Istio's waypoint
// cases (targetRefs to a Service, reporter SERVER_GATEWAY) do not apply: Isthmus runs no waypoints, and a
// sidecar never takes a Telemetry with targetRefs.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@bufbuild/protobuf';
import type { Telemetry, TelemetrySpec } from '../../api/telemetry/telemetry.js';
import { DEFAULT_MESH_CONFIG, parseMeshConfig, type MeshConfig } from '../../model/mesh-config.js';
import type { ListenerClass } from '../listener/http-filters.js';
import { applicableMetrics, effectiveMetrics, type TelemetryLookup, type TelemetryWorkload } from './effective-metrics.js';
import { statsPluginConfig } from './stats-config.js';

let clock = 0;
function tel(namespace: string, spec: TelemetrySpec, name = 'default'): Telemetry {
  clock++;
  return {
    apiVersion: 'telemetry.istio.io/v1',
    kind: 'Telemetry',
    metadata: { name, namespace, creationTimestamp: `2024-01-01T00:00:${String(clock).padStart(2, '0')}Z` },
    spec,
  };
}

function lookupOf(ts: readonly Telemetry[]): TelemetryLookup {
  return (ns) => ts.filter((t) => t.metadata.namespace === ns);
}

/** Istio's test mesh: DefaultMeshConfig (a `prometheus` provider, no default providers) unless a case sets them. */
function meshWith(defaultMetrics: readonly string[] = []): MeshConfig {
  return { ...DEFAULT_MESH_CONFIG, defaultProviders: { metrics: defaultMetrics } };
}

const SIDECAR: TelemetryWorkload = { namespace: 'default', labels: { app: 'test' } };

/** The stats configs (one per prometheus provider with metrics on) for a proxy and class. */
function configs(ts: readonly Telemetry[], cls: ListenerClass, mesh = meshWith(), w = SIDECAR): JsonObject[] {
  return effectiveMetrics(lookupOf(ts), mesh, w).flatMap((e) => {
    const c = statsPluginConfig(e.metrics, cls);
    return c === undefined ? [] : [c];
  });
}

const overrides: TelemetrySpec['metrics'] = [
  {
    providers: [{ name: 'prometheus' }],
    overrides: [{ match: { metric: 'REQUEST_COUNT' }, tagOverrides: { remove: { operation: 'REMOVE' }, add: { operation: 'UPSERT', value: 'bar' } } }],
  },
];
const emptyPrometheus: TelemetrySpec = { metrics: [{ providers: [{ name: 'prometheus' }] }] };
const reenable: TelemetrySpec = { metrics: [{ providers: [{ name: 'prometheus' }], overrides: [{ match: { metric: 'ALL_METRICS' } }] }] };
const overridesPrometheus: TelemetrySpec = { metrics: overrides };
const reportingInterval: TelemetrySpec = { metrics: [{ providers: [{ name: 'prometheus' }], reportingInterval: '15s' }] };
const overridesInterval: TelemetrySpec = { metrics: [{ providers: [{ name: 'prometheus' }], reportingInterval: '10s' }] };
const overridesEmptyProvider: TelemetrySpec = { metrics: [{ overrides: overrides[0]?.overrides ?? [] }] };
const disabledAllMetrics: TelemetrySpec = { metrics: [{ overrides: [{ match: { metric: 'ALL_METRICS' }, disabled: true }], providers: [{ name: 'prometheus' }] }] };
const disabledAllMetricsImplicit: TelemetrySpec = { metrics: [{ overrides: [{ disabled: true }], providers: [{ name: 'prometheus' }] }] };

const CFG = { metrics: [{ dimensions: { add: 'bar' }, name: 'requests_total', tags_to_remove: ['remove'] }] };
/** Istio's metric order: by Istio metric name (GRPC_*, REQUEST_*, RESPONSE_SIZE, TCP_*), then mapped. */
const ALL_NAMES = [
  'request_messages_total',
  'response_messages_total',
  'requests_total',
  'request_duration_milliseconds',
  'request_bytes',
  'response_bytes',
  'tcp_connections_closed_total',
  'tcp_connections_opened_total',
  'tcp_received_bytes_total',
  'tcp_sent_bytes_total',
];
const allWith = (f: (name: string) => JsonObject): JsonObject => ({ metrics: ALL_NAMES.map(f) });
const tagsAll: TelemetrySpec = {
  metrics: [{ providers: [{ name: 'prometheus' }], overrides: [{ tagOverrides: { remove: { operation: 'REMOVE' }, add: { operation: 'UPSERT', value: 'bar' } } }] }],
};
const countOverride = { match: { metric: 'REQUEST_COUNT' as const }, tagOverrides: { add: { value: 'add-override' } } };
const allTags = { tagOverrides: { remove: { operation: 'REMOVE' as const }, add: { operation: 'UPSERT' as const, value: 'bar' } } };

interface Case {
  readonly name: string;
  readonly telemetries: readonly Telemetry[];
  readonly defaultMetrics?: readonly string[];
  readonly want: readonly JsonObject[];
}

describe('Istio TestTelemetryFilters (sidecar outbound)', () => {
  const cases: Case[] = [
    { name: 'empty', telemetries: [], want: [] },
    { name: 'disabled-prometheus', telemetries: [tel('istio-system', disabledAllMetrics)], want: [] },
    { name: 'disabled-prometheus-implicit', telemetries: [tel('istio-system', disabledAllMetricsImplicit)], want: [] },
    { name: 'disabled-then-empty', telemetries: [tel('istio-system', disabledAllMetrics), tel('default', emptyPrometheus)], want: [] },
    {
      name: 'disabled-then-reenable',
      telemetries: [tel('istio-system', disabledAllMetrics), tel('default', reenable)],
      want: [allWith((name) => ({ name }))],
    },
    { name: 'disabled-then-overrides', telemetries: [tel('istio-system', disabledAllMetrics), tel('default', overridesPrometheus)], want: [CFG] },
    { name: 'default prometheus', telemetries: [tel('istio-system', emptyPrometheus)], want: [{}] },
    { name: 'default provider prometheus', telemetries: [], defaultMetrics: ['prometheus'], want: [{}] },
    { name: 'prometheus overrides', telemetries: [tel('istio-system', overridesPrometheus)], want: [CFG] },
    {
      name: 'prometheus overrides all metrics',
      telemetries: [tel('istio-system', tagsAll)],
      want: [allWith((name) => ({ dimensions: { add: 'bar' }, name, tags_to_remove: ['remove'] }))],
    },
    {
      name: 'prometheus overrides all metrics first',
      telemetries: [tel('istio-system', { metrics: [{ providers: [{ name: 'prometheus' }], overrides: [allTags, countOverride] }] })],
      want: [allWith((name) => ({ dimensions: { add: name === 'requests_total' ? 'add-override' : 'bar' }, name, tags_to_remove: ['remove'] }))],
    },
    {
      name: 'prometheus overrides all metrics secondary',
      telemetries: [tel('istio-system', { metrics: [{ providers: [{ name: 'prometheus' }], overrides: [countOverride, allTags] }] })],
      want: [allWith((name) => ({ dimensions: { add: 'bar' }, name, tags_to_remove: ['remove'] }))],
    },
    { name: 'reporting-interval', telemetries: [tel('istio-system', reportingInterval)], want: [{ tcp_reporting_duration: '15s' }] },
    { name: 'override-interval', telemetries: [tel('istio-system', reportingInterval), tel('default', overridesInterval)], want: [{ tcp_reporting_duration: '10s' }] },
    {
      name: 'namespace overrides merge without provider',
      telemetries: [tel('istio-system', emptyPrometheus), tel('default', overridesEmptyProvider)],
      want: [CFG],
    },
    { name: 'namespace overrides merge with default provider', telemetries: [tel('default', overridesEmptyProvider)], defaultMetrics: ['prometheus'], want: [CFG] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(configs(c.telemetries, 'sidecar-outbound', meshWith(c.defaultMetrics)), c.want);
    });
  }
  it('prometheus overrides TCP: the same config for TCP chains (the class, not the protocol, decides)', () => {
    assert.deepEqual(configs([tel('istio-system', overridesPrometheus)], 'sidecar-outbound'), [CFG]);
  });
});

describe('inheritance and listener classes', () => {
  const PROM = ['prometheus'];
  const cases: (Omit<Case, 'defaultMetrics'> & { readonly cls?: ListenerClass; readonly workload?: TelemetryWorkload; readonly mesh?: MeshConfig })[] = [
    { name: 'mesh defaults: an empty config on outbound', telemetries: [], want: [{}] },
    { name: 'mesh defaults: inbound drops the Host header fallback', telemetries: [], cls: 'sidecar-inbound', want: [{ disable_host_header_fallback: true }] },
    { name: 'mesh defaults: gateways drop the Host header fallback', telemetries: [], cls: 'gateway', want: [{ disable_host_header_fallback: true }] },
    {
      name: 'REQUEST_COUNT disabled for CLIENT only: dropped on outbound',
      telemetries: [tel('istio-system', { metrics: [{ overrides: [{ match: { metric: 'REQUEST_COUNT', mode: 'CLIENT' }, disabled: true }] }] })],
      want: [{ metrics: [{ name: 'requests_total', drop: true }] }],
    },
    {
      name: 'REQUEST_COUNT disabled for CLIENT only: untouched on inbound',
      telemetries: [tel('istio-system', { metrics: [{ overrides: [{ match: { metric: 'REQUEST_COUNT', mode: 'CLIENT' }, disabled: true }] }] })],
      cls: 'sidecar-inbound',
      want: [{ disable_host_header_fallback: true }],
    },
    {
      name: 'all metrics disabled for SERVER: inbound has no filter, outbound keeps one',
      telemetries: [tel('istio-system', { metrics: [{ overrides: [{ match: { mode: 'SERVER' }, disabled: true }] }] })],
      cls: 'sidecar-inbound',
      want: [],
    },
    {
      name: 'a workload-selected Telemetry disabling everything wins over the namespace',
      telemetries: [tel('default', overridesPrometheus), tel('default', { selector: { matchLabels: { app: 'test' } }, ...disabledAllMetrics }, 'off')],
      want: [],
    },
    {
      name: 'a selector not matching the workload is ignored',
      telemetries: [tel('default', { selector: { matchLabels: { app: 'other' } }, ...disabledAllMetrics }, 'off')],
      want: [{}],
    },
    {
      name: 'a selector Telemetry in the root namespace does not reach other namespaces',
      telemetries: [tel('istio-system', { selector: { matchLabels: { app: 'test' } }, ...disabledAllMetrics }, 'off')],
      want: [{}],
    },
    {
      name: 'a selector Telemetry in the root namespace reaches its own workloads',
      telemetries: [tel('istio-system', { selector: { matchLabels: { app: 'test' } }, ...disabledAllMetrics }, 'off')],
      workload: { namespace: 'istio-system', labels: { app: 'test' } },
      want: [],
    },
    {
      name: 'a Telemetry with targetRefs never attaches to a sidecar',
      telemetries: [tel('default', { targetRefs: [{ group: '', kind: 'Service', name: 'sample-svc' }], ...disabledAllMetrics }, 'svc')],
      want: [{}],
    },
    {
      name: 'only the oldest namespace-wide Telemetry counts',
      telemetries: [tel('default', overridesPrometheus, 'a'), tel('default', disabledAllMetrics, 'b')],
      want: [CFG],
    },
    {
      name: 'a namespace Telemetry naming a non-prometheus provider removes the prometheus filter',
      telemetries: [tel('default', { metrics: [{ providers: [{ name: 'stackdriver' }] }] })],
      want: [],
    },
    {
      name: 'custom metrics keep their name; UPSERT values are CEL expressions',
      telemetries: [
        tel('istio-system', {
          metrics: [{ overrides: [{ match: { customMetric: 'my_metric' }, tagOverrides: { request_host: { value: 'request.host' }, request_protocol: { operation: 'REMOVE' } } }] }],
        }),
      ],
      want: [{ metrics: [{ dimensions: { request_host: 'request.host' }, name: 'my_metric', tags_to_remove: ['request_protocol'] }] }],
    },
    {
      name: 'provider names match case-insensitively',
      telemetries: [tel('default', { metrics: [{ providers: [{ name: 'Prometheus' }], reportingInterval: '1m30s' }] })],
      want: [{ tcp_reporting_duration: '90s' }],
    },
    {
      name: 'no prometheus provider in the mesh: no filter',
      telemetries: [],
      mesh: { ...DEFAULT_MESH_CONFIG, prometheusProviders: [] },
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(configs(c.telemetries, c.cls ?? 'sidecar-outbound', c.mesh ?? meshWith(PROM), c.workload ?? SIDECAR), c.want);
    });
  }

  it('applicableMetrics orders root namespace, namespace, then workload-selected (oldest first)', () => {
    const root = tel('istio-system', { metrics: [{ reportingInterval: '1s' }] });
    const ns = tel('default', { metrics: [{ reportingInterval: '2s' }] });
    const w1 = tel('default', { selector: { matchLabels: { app: 'test' } }, metrics: [{ reportingInterval: '3s' }] }, 'w1');
    const w2 = tel('default', { selector: { matchLabels: { app: 'test' } }, metrics: [{ reportingInterval: '4s' }] }, 'w2');
    const got = applicableMetrics(lookupOf([root, ns, w1, w2]), 'istio-system', SIDECAR).map((m) => m.reportingInterval);
    assert.deepEqual(got, ['1s', '2s', '3s', '4s']);
  });
});

describe('mesh config: default and prometheus providers', () => {
  const cases: { readonly name: string; readonly input: unknown; readonly defaults: readonly string[]; readonly prometheus: readonly string[] }[] = [
    { name: "Istio's installed defaults", input: {}, defaults: ['prometheus'], prometheus: ['prometheus'] },
    { name: 'defaultProviders.metrics replaced', input: { defaultProviders: { metrics: ['prom2'] } }, defaults: ['prom2'], prometheus: ['prometheus'] },
    { name: 'defaultProviders without metrics: none', input: { defaultProviders: { tracing: ['zipkin'] } }, defaults: [], prometheus: ['prometheus'] },
    { name: 'another prometheus provider', input: { extensionProviders: [{ name: 'prom2', prometheus: {} }] }, defaults: ['prometheus'], prometheus: ['prometheus', 'prom2'] },
    {
      name: '`prometheus` redefined as another kind is no metrics provider',
      input: { extensionProviders: [{ name: 'prometheus', envoyExtAuthzHttp: { service: 'authz.foo.svc.cluster.local', port: 8000 } }] },
      defaults: ['prometheus'],
      prometheus: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseMeshConfig(c.input);
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.value.defaultProviders?.metrics, c.defaults);
      assert.deepEqual(r.value.prometheusProviders, c.prometheus);
    });
  }
  it('a provider whose prometheus field is not an object is reported', () => {
    const r = parseMeshConfig({ extensionProviders: [{ name: 'p', prometheus: 'yes' }] });
    assert.ok(!r.ok);
    assert.deepEqual(r.issues.map((i) => i.path), ['extensionProviders[0].prometheus']);
  });
});
