// WasmPlugins in the listeners a proxy receives (Istio's WasmPluginsByListenerInfo and the PopAppend* placements
// in pilot/pkg/networking/core), inline as Envoy wasm filters rather than through ECDS: a sidecar with plugins
// in every phase around jwt_authn and RBAC, CLIENT-only and port-limited plugins, a NETWORK plugin in TCP and
// HCM chains, gateways selected by label (Istio Gateway) and by targetRefs (Gateway API), and failure_policy
// (Envoy 1.33, field 9) as it travels on the wire. Goldens are config_dump JSON.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, fromBinary, toBinary, toJson, type JsonValue } from '@bufbuild/protobuf';
import { StringValueSchema, anyUnpack } from '@bufbuild/protobuf/wkt';
import { assertGolden } from '../../support/golden.js';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../../support/mesh.js';
import { buildProxyContext } from '../../../src/translate/context.js';
import { buildListenersWithIssues } from '../../../src/translate/listener/build-listeners.js';
import { XDS_REGISTRY } from '../../../src/xds/codec.js';
import { ListenerSchema, type Listener } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { Filter } from '../../../src/xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { WasmSchema as HttpWasmSchema } from '../../../src/xds/gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import { FAILURE_POLICY_FIELD, failurePolicyOf } from '../../../src/xds/wasm-failure-policy.js';
import { k8sService } from './harness.js';

/** XDS_REGISTRY plus StringValue, which the plugin configuration Any holds. */
const REGISTRY = createRegistry(XDS_REGISTRY, StringValueSchema);

interface Built {
  readonly listeners: readonly Listener[];
  readonly dump: readonly JsonValue[];
}

function build(yaml: string, proxy: TestProxyOptions): Built {
  const { snapshot } = meshFromYaml(yaml);
  const { listeners } = buildListenersWithIssues(buildProxyContext(snapshot, testProxy(proxy)));
  listeners.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { listeners, dump: listeners.map((l) => toJson(ListenerSchema, l, { registry: REGISTRY, alwaysEmitImplicit: false })) };
}

function wasmPlugin(name: string, ns: string, spec: string): string {
  return `apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: ${name}, namespace: ${ns}}
spec:
  url: oci://ghcr.io/acme/${name}:v1
${spec}
---
`;
}

type ChainDump = { name?: string; filterChainMatch?: { transportProtocol?: string; destinationPort?: number }; filters?: { name: string; typedConfig?: { httpFilters?: { name: string }[] } }[] };

function filterNames(chain: ChainDump | undefined): string[] {
  return (chain?.filters ?? []).flatMap((f) => (f.typedConfig?.httpFilters !== undefined ? [f.name, ...f.typedConfig.httpFilters.map((h) => `  ${h.name}`)] : [f.name]));
}

function chainsOf(b: Built, listener: string): ChainDump[] {
  const l = b.dump.find((x) => (x as { name?: string }).name === listener) as { filterChains?: ChainDump[]; defaultFilterChain?: ChainDump } | undefined;
  if (l === undefined) throw new Error(`no listener ${listener}`);
  return [...(l.filterChains ?? []), ...(l.defaultFilterChain !== undefined ? [l.defaultFilterChain] : [])];
}

const DOCKER_CONFIG = Buffer.from('{"auths":{"ghcr.io":{"auth":"dXNlcjpwYXNz"}}}').toString('base64');

const SIDECAR_YAML = [
  k8sService('reviews', [{ port: 9080, name: 'http' }]),
  k8sService('reviews-db', [{ port: 5432, name: 'tcp' }], { selector: { app: 'reviews' } }),
  k8sService('ratings', [{ port: 9080, name: 'http' }], { clusterIP: '10.96.0.20' }),
  `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-all, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  rules: [{}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  jwtRules:
  - issuer: https://issuer.example
    jwks: '{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]}'
---
apiVersion: v1
kind: Secret
metadata: {name: ghcr-pull, namespace: default}
type: kubernetes.io/dockerconfigjson
data: {.dockerconfigjson: ${DOCKER_CONFIG}}
---
`,
  wasmPlugin('authn-low', 'default', `  selector: {matchLabels: {app: reviews}}
  phase: AUTHN
  priority: 10`),
  wasmPlugin('authn-high', 'default', `  selector: {matchLabels: {app: reviews}}
  phase: AUTHN
  priority: 100
  pluginName: authn_root
  imagePullPolicy: Always
  imagePullSecret: ghcr-pull
  pluginConfig: {issuer: acme, audiences: [reviews]}
  vmConfig:
    env:
    - {name: MODE, value: strict}
    - {name: POD_NAME, valueFrom: HOST}`),
  wasmPlugin('authz', 'default', `  selector: {matchLabels: {app: reviews}}
  phase: AUTHZ
  failStrategy: FAIL_OPEN`),
  wasmPlugin('stats', 'default', `  phase: STATS
  failStrategy: FAIL_RELOAD`),
  wasmPlugin('tail', 'default', `  selector: {matchLabels: {app: reviews}}`),
  wasmPlugin('mesh-wide', 'istio-system', `  priority: 5`),
  wasmPlugin('client-only', 'default', `  match: [{mode: CLIENT}]`),
  wasmPlugin('port-9080', 'default', `  match: [{mode: SERVER, ports: [{number: 9080}]}]
  priority: 1`),
  wasmPlugin('other-app', 'default', `  selector: {matchLabels: {app: ratings}}`),
  wasmPlugin('tcp-meter', 'default', `  type: NETWORK
  phase: AUTHZ
  match: [{mode: SERVER}]`),
].join('\n');

const REVIEWS: TestProxyOptions = { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, ip: '10.1.0.5' };

describe('WasmPlugins on a sidecar', () => {
  const b = build(SIDECAR_YAML, REVIEWS);
  const inbound = chainsOf(b, 'virtualInbound');
  const tls = (name: string): ChainDump | undefined => inbound.find((c) => c.name === name && c.filterChainMatch?.transportProtocol === 'tls');

  it('golden: the inbound HTTP and TCP chains (mTLS variants)', () => {
    assertGolden('listener/wasm-sidecar-inbound', [tls('0.0.0.0_9080'), tls('0.0.0.0_5432')]);
  });

  it('places HTTP plugins by phase around jwt_authn and RBAC, by priority within a phase; NETWORK ones before the HCM', () => {
    assert.deepEqual(filterNames(tls('0.0.0.0_9080')), [
      'istio.metadata_exchange',
      'default.tcp-meter',
      'envoy.filters.network.http_connection_manager',
      '  istio.metadata_exchange',
      '  default.authn-high',
      '  default.authn-low',
      '  envoy.filters.http.jwt_authn',
      '  default.authz',
      '  envoy.filters.http.rbac',
      '  default.stats',
      '  istio-system.mesh-wide',
      '  default.port-9080',
      '  default.tail',
      '  envoy.filters.http.fault',
      '  envoy.filters.http.cors',
      '  istio.stats',
      '  envoy.filters.http.router',
    ]);
  });

  it('puts an AUTHZ NETWORK plugin before network RBAC and tcp_proxy in TCP chains', () => {
    assert.deepEqual(filterNames(tls('0.0.0.0_5432')), ['istio.metadata_exchange', 'default.tcp-meter', 'envoy.filters.network.rbac', 'istio.stats', 'envoy.filters.network.tcp_proxy']);
  });

  it('gives the port-less passthrough chains only the plugins without ports', () => {
    const passthrough = inbound.find((c) => c.name === 'virtualInbound-catchall-http');
    const names = filterNames(passthrough);
    assert.ok(names.includes('  default.tail') && !names.includes('  default.port-9080'));
  });

  it('golden: the outbound HTTP listener carries plugins without match and CLIENT ones, not SERVER ones', () => {
    const outbound = b.dump.find((l) => (l as { name?: string }).name === '0.0.0.0_9080');
    assertGolden('listener/wasm-sidecar-outbound', outbound);
    const http = chainsOf(b, '0.0.0.0_9080').find((c) => filterNames(c).includes('envoy.filters.network.http_connection_manager'));
    assert.deepEqual(filterNames(http), [
      'envoy.filters.network.http_connection_manager',
      '  istio.metadata_exchange',
      '  default.authn-high',
      '  default.authn-low',
      '  default.authz',
      '  default.stats',
      '  istio-system.mesh-wide',
      '  default.client-only',
      '  default.tail',
      '  istio.alpn',
      '  envoy.filters.http.fault',
      '  envoy.filters.http.cors',
      '  istio.stats',
      '  envoy.filters.http.router',
    ]);
  });

  it('a SERVER-mode NETWORK plugin stays off outbound TCP chains and the passthrough fallthrough', () => {
    const outboundDb = b.listeners.filter((l) => l.name !== 'virtualInbound').flatMap((l) => [...l.filterChains, ...(l.defaultFilterChain !== undefined ? [l.defaultFilterChain] : [])]);
    assert.equal(outboundDb.some((c) => c.filters.some((f) => f.name === 'default.tcp-meter')), false);
  });

  it('a plugin selecting another workload is not there at all', () => {
    assert.equal(JSON.stringify(b.dump).includes('other-app'), false);
  });
});

describe('WasmPlugins on gateways', () => {
  const istioGateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
---
`;

  it('golden: an Istio ingress gateway takes plugins by selector, in CLIENT mode', () => {
    const yaml = [
      istioGateway,
      wasmPlugin('edge-auth', 'istio-system', `  selector: {matchLabels: {istio: ingressgateway}}
  phase: AUTHN`),
      wasmPlugin('server-only', 'istio-system', `  selector: {matchLabels: {istio: ingressgateway}}
  match: [{mode: SERVER}]`),
      wasmPlugin('client-8080', 'istio-system', `  selector: {matchLabels: {istio: ingressgateway}}
  match: [{mode: CLIENT, ports: [{number: 8080}]}]`),
      wasmPlugin('client-443', 'istio-system', `  selector: {matchLabels: {istio: ingressgateway}}
  match: [{mode: CLIENT, ports: [{number: 443}]}]`),
    ].join('\n');
    const b = build(yaml, { type: 'router', name: 'istio-ingressgateway-abc', namespace: 'istio-system', labels: { istio: 'ingressgateway' }, ip: '10.1.0.200' });
    assertGolden('listener/wasm-gateway-selector', b.dump);
    assert.deepEqual(filterNames(chainsOf(b, '0.0.0.0_8080')[0]), [
      'envoy.filters.network.http_connection_manager',
      '  istio.metadata_exchange',
      '  istio-system.edge-auth',
      '  istio-system.client-8080',
      '  istio.alpn',
      '  envoy.filters.http.fault',
      '  envoy.filters.http.cors',
      '  istio.stats',
      '  envoy.filters.http.router',
    ]);
  });

  it('golden: a Gateway API gateway takes plugins by targetRefs naming it', () => {
    const yaml = [
      `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
`,
      wasmPlugin('gw-auth', 'default', `  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  phase: AUTHZ`),
      wasmPlugin('gw-net', 'default', `  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  type: NETWORK`),
      wasmPlugin('other-gw', 'default', `  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: other}]`),
      wasmPlugin('sidecars', 'default', `  selector: {matchLabels: {app: reviews}}`),
    ].join('\n');
    const b = build(yaml, { type: 'router', name: 'gw-istio-abc', namespace: 'default', ip: '10.1.0.50', labels: { 'gateway.networking.k8s.io/gateway-name': 'gw' } });
    assertGolden('listener/wasm-gateway-target-refs', b.dump);
    assert.deepEqual(filterNames(chainsOf(b, '0.0.0.0_80')[0]), [
      'default.gw-net',
      'envoy.filters.network.http_connection_manager',
      '  istio.metadata_exchange',
      '  default.gw-auth',
      '  istio.alpn',
      '  envoy.filters.http.fault',
      '  envoy.filters.http.cors',
      '  istio.stats',
      '  envoy.filters.http.router',
    ]);
  });
});

describe('failure_policy on the wire', () => {
  it('golden: FAIL_RELOAD, FAIL_OPEN and FAIL_CLOSED survive encoding the listener and decoding it again', () => {
    const b = build(SIDECAR_YAML, REVIEWS);
    const inbound = b.listeners.find((l) => l.name === 'virtualInbound');
    assert.ok(inbound !== undefined);
    const decoded = fromBinary(ListenerSchema, toBinary(ListenerSchema, inbound));
    const chain = decoded.filterChains.find((c) => c.name === '0.0.0.0_9080');
    const hcmFilter = chain?.filters.find((f: Filter) => f.name === 'envoy.filters.network.http_connection_manager');
    const hcmAny = hcmFilter?.configType.case === 'typedConfig' ? hcmFilter.configType.value : undefined;
    const hcm = hcmAny !== undefined ? anyUnpack(hcmAny, HttpConnectionManagerSchema) : undefined;
    const wire = (hcm?.httpFilters ?? []).flatMap((f) => {
      if (f.configType.case !== 'typedConfig') return [];
      const wasm = anyUnpack(f.configType.value, HttpWasmSchema);
      if (wasm?.config === undefined) return [];
      const field9 = (wasm.config.$unknown ?? []).filter((u) => u.no === FAILURE_POLICY_FIELD).map((u) => Buffer.from(u.data).toString('hex'));
      return [{ filter: f.name, failOpen: wasm.config.failOpen, failurePolicy: failurePolicyOf(wasm.config) ?? null, field9Varint: field9 }];
    });
    assertGolden('listener/wasm-failure-policy-wire', wire);
    assert.deepEqual(
      wire.filter((w) => w.filter === 'default.stats' || w.filter === 'default.authz').map((w) => [w.filter, w.failurePolicy]),
      [
        ['default.authz', 'FAIL_OPEN'],
        ['default.stats', 'FAIL_RELOAD'],
      ],
    );
  });
});
