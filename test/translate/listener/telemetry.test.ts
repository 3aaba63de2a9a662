// Istio telemetry in the listeners a proxy receives (pilot/pkg/model/telemetry.go, listener_builder.go
// appendMxFilter, networkfilter.go): istio.metadata_exchange first in every HCM (and, as a network filter, first
// on every inbound chain), istio.stats after cors and before tcp_proxy on TCP chains, its stats.PluginConfig shaped by the Telemetry resources in scope. Goldens are
// config_dump JSON of a sidecar with HTTP and TCP ports on both sides, under: a root-namespace Telemetry
// removing and upserting tags, one disabling REQUEST_COUNT for CLIENT only, and a workload Telemetry turning
// every metric off.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { assertGolden } from '../../support/golden.js';
import { buildFor, k8sService, type Built, telemetryYaml, REVIEWS_AND_RATINGS } from './harness.js';

const SERVICES = REVIEWS_AND_RATINGS;
const REVIEWS = { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, ip: '10.1.0.5' };

const telemetry = telemetryYaml;

const TAG_OVERRIDES = telemetry('istio-system', 'mesh-default', `  metrics:
  - providers: [{name: prometheus}]
    overrides:
    - match: {metric: REQUEST_COUNT}
      tagOverrides:
        request_protocol: {operation: REMOVE}
        request_host: {value: request.host}`);
const CLIENT_COUNT_OFF = telemetry('istio-system', 'mesh-default', `  metrics:
  - overrides:
    - match: {metric: REQUEST_COUNT, mode: CLIENT}
      disabled: true`);
const WORKLOAD_OFF = telemetry('default', 'reviews-off', `  selector: {matchLabels: {app: reviews}}
  metrics:
  - overrides:
    - disabled: true`);

type FilterDump = { name: string; typedConfig?: { '@type'?: string; typeUrl?: string; value?: JsonObject; httpFilters?: FilterDump[] } };
type ChainDump = { name?: string; filters?: FilterDump[] };
type ListenerDump = { name?: string; filterChains?: ChainDump[]; defaultFilterChain?: ChainDump };

function chains(b: Built): { listener: string; chain: ChainDump }[] {
  return (b.dump.listeners as ListenerDump[]).flatMap((l) =>
    [...(l.filterChains ?? []), ...(l.defaultFilterChain !== undefined ? [l.defaultFilterChain] : [])].map((chain) => ({ listener: l.name ?? '', chain })),
  );
}

/** `listener/chain: filter > http filter ...` for every chain, HCMs expanded. */
function filterLayout(b: Built): string[] {
  return chains(b).map(({ listener, chain }) => {
    const names = (chain.filters ?? []).flatMap((f) => (f.typedConfig?.httpFilters !== undefined ? [`hcm[${f.typedConfig.httpFilters.map((h) => h.name).join(' ')}]`] : [f.name]));
    return `${listener}/${chain.name ?? ''}: ${names.join(' ')}`;
  });
}

/** The stats.PluginConfig of every istio.stats filter, network or HTTP, by listener. */
function statsConfigs(b: Built): Map<string, JsonValue[]> {
  const out = new Map<string, JsonValue[]>();
  for (const { listener, chain } of chains(b)) {
    for (const f of chain.filters ?? []) {
      for (const g of [f, ...(f.typedConfig?.httpFilters ?? [])]) {
        if (g.name !== 'istio.stats') continue;
        assert.equal(g.typedConfig?.['@type'], 'type.googleapis.com/udpa.type.v1.TypedStruct');
        assert.equal(g.typedConfig?.typeUrl, 'type.googleapis.com/stats.PluginConfig');
        const l = out.get(listener) ?? [];
        l.push(g.typedConfig?.value ?? null);
        out.set(listener, l);
      }
    }
  }
  return out;
}

/** The distinct configs in a list (every chain of a listener carries its own copy). */
function distinct(configs: readonly JsonValue[] | undefined): JsonValue[] {
  const seen = new Map<string, JsonValue>();
  for (const c of configs ?? []) seen.set(JSON.stringify(c), c);
  return [...seen.values()];
}

describe('telemetry filters: mesh defaults', () => {
  const b = buildFor(SERVICES, REVIEWS);

  it('every HCM starts with istio.metadata_exchange and has istio.stats after cors; TCP chains count before tcp_proxy', () => {
    const layout = filterLayout(b);
    // istio.alpn on outbound HCMs only; every inbound chain starts with the TCP metadata exchange network filter.
    const inboundHcm = 'istio.metadata_exchange envoy.filters.http.fault envoy.filters.http.cors istio.stats envoy.filters.http.router';
    const outboundHcm = 'istio.metadata_exchange istio.alpn envoy.filters.http.fault envoy.filters.http.cors istio.stats envoy.filters.http.router';
    for (const line of layout) {
      const inbound = line.startsWith('virtualInbound/');
      if (inbound) assert.ok(line.includes(': istio.metadata_exchange '), line);
      if (line.includes('hcm[')) assert.ok(line.includes(`hcm[${inbound ? inboundHcm : outboundHcm}]`), line);
      else assert.ok(line.endsWith('istio.stats envoy.filters.network.tcp_proxy'), line);
    }
    assert.ok(layout.includes('virtualInbound/virtualInbound-blackhole: istio.metadata_exchange istio.stats envoy.filters.network.tcp_proxy'));
    assert.ok(layout.includes('virtualOutbound/virtualOutbound-blackhole: istio.stats envoy.filters.network.tcp_proxy'));
  });

  it('inbound discovers and propagates downstream, outbound upstream (Istio’s exact peer_metadata.Config)', () => {
    const mx = (listener: string): JsonValue | undefined => {
      const c = chains(b).find((x) => x.listener === listener && (x.chain.filters ?? []).some((f) => f.typedConfig?.httpFilters !== undefined));
      const hcm = c?.chain.filters?.find((f) => f.typedConfig?.httpFilters !== undefined);
      const f = hcm?.typedConfig?.httpFilters?.[0];
      assert.equal(f?.typedConfig?.typeUrl, 'type.googleapis.com/io.istio.http.peer_metadata.Config');
      return f?.typedConfig?.value;
    };
    assert.deepEqual(mx('virtualInbound'), {
      downstream_discovery: [{ istio_headers: {} }, { workload_discovery: {} }],
      downstream_propagation: [{ istio_headers: {} }],
    });
    assert.deepEqual(mx('0.0.0.0_9080'), {
      upstream_discovery: [{ istio_headers: {} }, { workload_discovery: {} }],
      upstream_propagation: [{ istio_headers: {} }],
    });
  });

  it('outbound configs are empty, inbound ones turn off the Host header fallback', () => {
    const s = statsConfigs(b);
    assert.deepEqual(distinct(s.get('virtualInbound')), [{ disable_host_header_fallback: true }]);
    for (const l of ['0.0.0.0_9080', '10.96.0.20_6379', 'virtualOutbound']) assert.deepEqual(distinct(s.get(l)), [{}], l);
  });
});

describe('telemetry filters: Telemetry overrides', () => {
  it('golden: a root-namespace Telemetry removing request_protocol and upserting request_host on REQUEST_COUNT', () => {
    const b = buildFor(`${SERVICES}\n${TAG_OVERRIDES}`, REVIEWS);
    assertGolden('listener/telemetry-tag-overrides', b.dump);
    const metric = { dimensions: { request_host: 'request.host' }, name: 'requests_total', tags_to_remove: ['request_protocol'] };
    const s = statsConfigs(b);
    assert.deepEqual(distinct(s.get('0.0.0.0_9080')), [{ metrics: [metric] }]);
    assert.deepEqual(distinct(s.get('virtualInbound')), [{ disable_host_header_fallback: true, metrics: [metric] }]);
  });

  it('golden: REQUEST_COUNT disabled for CLIENT only: dropped on outbound listeners, untouched inbound', () => {
    const b = buildFor(`${SERVICES}\n${CLIENT_COUNT_OFF}`, REVIEWS);
    assertGolden('listener/telemetry-client-request-count-off', b.dump);
    const s = statsConfigs(b);
    assert.deepEqual(distinct(s.get('0.0.0.0_9080')), [{ metrics: [{ name: 'requests_total', drop: true }] }]);
    assert.deepEqual(distinct(s.get('virtualInbound')), [{ disable_host_header_fallback: true }]);
  });

  it('golden: a workload Telemetry disabling every metric removes istio.stats from that proxy only', () => {
    const b = buildFor(`${SERVICES}\n${WORKLOAD_OFF}`, REVIEWS);
    assertGolden('listener/telemetry-workload-disabled', b.dump);
    assert.equal(statsConfigs(b).size, 0);
    assert.ok(filterLayout(b).every((l) => !l.includes('istio.stats')));
    assert.ok(filterLayout(b).some((l) => l.includes('istio.metadata_exchange')), 'metadata exchange does not depend on metrics');
    const other = buildFor(`${SERVICES}\n${WORKLOAD_OFF}`, { name: 'ratings-v1', labels: { app: 'ratings' }, ip: '10.1.0.6' });
    assert.ok(statsConfigs(other).size > 0);
  });
});
