// The empty envoy.filters.http.stateful_session filter behind PILOT_ENABLE_PERSISTENT_SESSION_FILTER (Istio
// listener_builder.go buildHTTPConnectionManager, xds/filters EmptySessionFilter): on every sidecar outbound and
// gateway HTTP connection manager, right before the router, never on sidecar inbound; nothing with the flag
// off, and nothing for proxyless gRPC (Isthmus' deviation: @grpc/grpc-js-xds does not implement the filter).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { DEFAULT_PILOT_FEATURES, type PilotFeatures } from '../../../src/model/pilot-features.js';
import type { Listener } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChain } from '../../../src/xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { StatefulSessionSchema } from '../../../src/xds/gen/envoy/extensions/filters/http/stateful_session/v3/stateful_session_pb.js';
import { HttpConnectionManagerSchema, type HttpConnectionManager } from '../../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { assertGolden } from '../../support/golden.js';
import { buildFor, k8sService, listener } from './harness.js';

const FILTER = 'envoy.filters.http.stateful_session';
const ON: PilotFeatures = { ...DEFAULT_PILOT_FEATURES, enablePersistentSessionFilter: true };
const LABELLED = { 'istio.io/persistent-session': 'sid' };

/** Every HCM of the listener (filter chains, default chain, api_listener) as `<chain name>` -> its HCM. */
function hcms(l: Listener): [string, HttpConnectionManager][] {
  const out: [string, HttpConnectionManager][] = [];
  const fromChain = (c: FilterChain | undefined): void => {
    for (const f of c?.filters ?? []) {
      if (f.name !== 'envoy.filters.network.http_connection_manager' || f.configType.case !== 'typedConfig') continue;
      const hcm = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
      if (hcm !== undefined) out.push([c?.name !== undefined && c.name !== '' ? c.name : l.name, hcm]);
    }
  };
  for (const c of l.filterChains) fromChain(c);
  fromChain(l.defaultFilterChain);
  const api = l.apiListener?.apiListener;
  if (api !== undefined) {
    const hcm = anyUnpack(api, HttpConnectionManagerSchema);
    if (hcm !== undefined) out.push([l.name, hcm]);
  }
  return out;
}

/** `<listener>/<chain>` for every HCM that has the session filter. */
function withSession(listeners: readonly Listener[]): string[] {
  return listeners.flatMap((l) => hcms(l).filter(([, h]) => h.httpFilters.some((f) => f.name === FILTER)).map(([c]) => `${l.name}/${c}`));
}

const SIDECAR_YAML = [
  k8sService('reviews', [{ port: 9080, name: 'http' }, { port: 5432, name: 'tcp' }], { clusterIP: '10.0.0.10' }),
  k8sService('cart', [{ port: 8000, name: 'web' }], { clusterIP: '10.0.0.11' }),
  // The proxy's own workload: its inbound HCMs must not get the filter.
  k8sService('sleep', [{ port: 8080, name: 'http' }], { selector: { app: 'sleep' } }),
].join('\n');
const CLIENT = { name: 'sleep', labels: { app: 'sleep' }, ip: '10.1.0.99' };

describe('stateful_session filter: sidecar', () => {
  it('flag off (the default): no HCM has it', () => {
    assert.deepEqual(withSession(buildFor(SIDECAR_YAML, CLIENT).listeners), []);
  });

  const b = buildFor(SIDECAR_YAML, CLIENT, { features: ON });

  it('flag on: every outbound HCM (HTTP and sniffed ports) has it, no inbound one does', () => {
    // 8080 and 9080: shared HTTP listeners; cart's undeclared-protocol port sniffs on its own VIP listener.
    assert.deepEqual(withSession(b.listeners), ['0.0.0.0_8080/0.0.0.0_8080', '0.0.0.0_9080/0.0.0.0_9080', '10.0.0.11_8000/10.0.0.11_8000']);
    const inbound = hcms(listener(b, 'virtualInbound'));
    assert.ok(inbound.length > 0);
    for (const [, h] of inbound) assert.ok(!h.httpFilters.some((f) => f.name === FILTER));
  });

  it('right before the router, after the stats filter; its config is an empty StatefulSession', () => {
    const [[, h] = ['', undefined]] = hcms(listener(b, '0.0.0.0_9080'));
    assert.ok(h !== undefined);
    assert.deepEqual(h.httpFilters.map((f) => f.name), ['istio.metadata_exchange', 'istio.alpn', 'envoy.filters.http.fault', 'envoy.filters.http.cors', 'istio.stats', FILTER, 'envoy.filters.http.router']);
    const f = h.httpFilters[5];
    assert.equal(f?.configType.case, 'typedConfig');
    const cfg = anyUnpack(f.configType.value, StatefulSessionSchema);
    assert.equal(cfg?.sessionState, undefined);
  });

  it('golden: the 0.0.0.0_9080 listener with the flag on', () => {
    assertGolden('listener/persistent-session-sidecar-outbound', b.dump.listeners.filter((l) => (l as { name?: string }).name === '0.0.0.0_9080'));
  });

  it('the filter does not depend on service labels (it is there to be overridden per route)', () => {
    const labelled = [k8sService('reviews', [{ port: 9080, name: 'http' }], { clusterIP: '10.0.0.10' }).replace('metadata:\n', `metadata:\n  labels: ${JSON.stringify(LABELLED)}\n`)].join('\n');
    const l = buildFor(labelled, CLIENT, { features: ON });
    const plain = buildFor(k8sService('reviews', [{ port: 9080, name: 'http' }], { clusterIP: '10.0.0.10' }), CLIENT, { features: ON });
    assert.deepEqual(withSession(l.listeners), withSession(plain.listeners));
  });
});

const GW = { type: 'router', name: 'istio-ingressgateway-abc', namespace: 'istio-system', labels: { istio: 'ingressgateway' }, ip: '10.1.0.200' } as const;
const GATEWAY_YAML = `${k8sService('istio-ingressgateway', [{ port: 80, name: 'http2', targetPort: 8080 }, { port: 443, name: 'https', targetPort: 8443 }, { port: 31400, name: 'tcp', targetPort: 31400 }], { ns: 'istio-system', selector: { istio: 'ingressgateway' } })}
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [secure.example.com]
    tls: {mode: ISTIO_MUTUAL}
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  tcp:
  - route:
    - destination: {host: db.default.svc.cluster.local, port: {number: 5432}}
---
${k8sService('db', [{ port: 5432, name: 'tcp' }], { clusterIP: '10.0.0.30' })}
`;

describe('stateful_session filter: gateway', () => {
  it('flag off: no HCM has it', () => {
    assert.deepEqual(withSession(buildFor(GATEWAY_YAML, GW).listeners), []);
  });

  const b = buildFor(GATEWAY_YAML, GW, { features: ON });

  it('flag on: the HTTP and the HTTPS server`s HCMs, right before the router; the TCP chain is unchanged', () => {
    assert.deepEqual(withSession(b.listeners), ['0.0.0.0_8080/0.0.0.0_8080', '0.0.0.0_8443/0.0.0.0_8443']);
    for (const l of b.listeners) {
      for (const [, h] of hcms(l)) assert.deepEqual(h.httpFilters.slice(-2).map((f) => f.name), [FILTER, 'envoy.filters.http.router']);
    }
    const tcp = listener(b, '0.0.0.0_31400');
    assert.ok(tcp.filterChains.length > 0);
    assert.deepEqual(hcms(tcp), []);
  });

  it('golden: the HTTP listener with the flag on', () => {
    assertGolden('listener/persistent-session-gateway', b.dump.listeners.filter((l) => (l as { name?: string }).name === '0.0.0.0_8080'));
  });
});

describe('stateful_session filter: proxyless gRPC gets none (deviation from istiod`s grpcgen)', () => {
  it('no api_listener HCM has it with the flag on, even for a labelled service', () => {
    const yaml = k8sService('echo', [{ port: 7070, name: 'grpc' }], { clusterIP: '10.0.0.40' }).replace('metadata:\n', `metadata:\n  labels: ${JSON.stringify(LABELLED)}\n`);
    const b = buildFor(yaml, { type: 'proxyless', name: 'client', labels: { app: 'client' } }, { features: ON });
    assert.ok(b.listeners.length > 0);
    assert.deepEqual(withSession(b.listeners), []);
    for (const l of b.listeners) for (const [, h] of hcms(l)) assert.deepEqual(h.httpFilters.map((f) => f.name), ['envoy.filters.http.fault', 'envoy.filters.http.router']);
  });
});
