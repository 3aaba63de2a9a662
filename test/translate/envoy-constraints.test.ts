// What the control plane sends sidecars and gateways must pass the protoc-gen-validate constraints of
// Envoy's protos, or a real Envoy refuses it ("Proto constraint validation failed") and keeps its old config.
// Istio's Bookinfo plus a mesh that uses most of what the translator builds (mTLS, authorization, JWT,
// telemetry, traffic policies, VirtualService features, ServiceEntry, Sidecar, WasmPlugin, gateway servers
// for HTTPS, TLS passthrough and TCP, Gateway API gateways with HTTPRoute filters, GRPCRoute, TLSRoute and
// TCPRoute), translated for sidecars and the gateways, every resource checked with src/xds/pgv.ts, typed
// configs included.
// Proxyless gRPC clients are left out: like Istio's grpcgen, their listeners carry no stat_prefix and
// their TLS names certificate provider instances, and gRPC does not apply these constraints.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { clone, toJsonString, type DescMessage, type Message } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { translate } from '../../src/translate/translate.js';
import { pgvProblems } from '../../src/xds/pgv.js';
import { XDS_REGISTRY } from '../../src/xds/codec.js';
import { ListenerSchema } from '../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HttpConnectionManagerSchema } from '../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { parseMeshConfig } from '../../src/model/mesh-config.js';
import { envoyConstraintProblems } from '../support/golden.js';
import { meshFromYaml, testProxy } from '../support/mesh.js';

const CORPUS = new URL('../../../shared/corpus/istio-bookinfo/', import.meta.url);
const BOOKINFO = ['platform/kube/bookinfo.yaml', 'networking/bookinfo-gateway.yaml', 'networking/destination-rule-all-mtls.yaml', 'networking/virtual-service-reviews-jason-v2-v3.yaml']
  .map((f) => readFileSync(new URL(f, CORPUS), 'utf8'))
  .join('\n---\n');

const FEATURES = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: istio-system }
spec: { mtls: { mode: STRICT } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ratings-viewer, namespace: default }
spec:
  selector: { matchLabels: { app: ratings } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-reviews"] } }]
    to: [{ operation: { methods: ["GET"], paths: ["/ratings/*"] } }]
    when: [{ key: "request.headers[x-debug]", notValues: ["1"] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: default }
spec:
  selector: { matchLabels: { app: productpage } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: default }
spec:
  selector: { matchLabels: { app: productpage } }
  jwtRules:
  - issuer: https://issuer.example.com
    jwks: '{"keys":[{"kty":"RSA","kid":"k1","alg":"RS256","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw","e":"AQAB"}]}'
    forwardOriginalToken: true
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  accessLogging: [{ providers: [{ name: envoy }] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings, namespace: default }
spec:
  hosts: [ratings]
  http:
  - match: [{ uri: { prefix: /ratings/v2 }, headers: { x-canary: { exact: "1" } } }]
    rewrite: { uri: /ratings }
    route: [{ destination: { host: ratings, subset: v1 }, weight: 90 }, { destination: { host: ratings, subset: v1 }, weight: 10 }]
    retries: { attempts: 3, perTryTimeout: 2s, retryOn: "5xx,reset,connect-failure" }
    timeout: 10s
    fault: { delay: { percentage: { value: 1 }, fixedDelay: 5s }, abort: { percentage: { value: 0.5 }, httpStatus: 503 } }
    mirror: { host: ratings, subset: v1 }
    mirrorPercentage: { value: 5 }
    corsPolicy: { allowOrigins: [{ exact: "https://example.com" }], allowMethods: [GET], maxAge: 24h }
    headers: { request: { set: { x-route: v2 } }, response: { remove: [x-internal] } }
  - route: [{ destination: { host: ratings, subset: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ratings, namespace: default }
spec:
  host: ratings
  trafficPolicy:
    loadBalancer: { consistentHash: { httpHeaderName: x-user } }
    connectionPool: { tcp: { maxConnections: 100, connectTimeout: 3s }, http: { http1MaxPendingRequests: 10, maxRequestsPerConnection: 5 } }
    outlierDetection: { consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50 }
    tls: { mode: ISTIO_MUTUAL }
  subsets: [{ name: v1, labels: { version: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: httpbin-ext, namespace: default }
spec:
  hosts: [httpbin.example.org]
  ports: [{ number: 443, name: https, protocol: TLS }, { number: 80, name: http, protocol: HTTP }]
  resolution: DNS
  location: MESH_EXTERNAL
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: httpbin-ext, namespace: default }
spec:
  host: httpbin.example.org
  trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: SIMPLE, sni: httpbin.example.org } }] }
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default, namespace: default }
spec:
  egress: [{ hosts: ["./*", "istio-system/*"] }]
---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: { name: add-header, namespace: default }
spec:
  selector: { matchLabels: { app: productpage } }
  url: file:///opt/plugins/add-header.wasm
  phase: AUTHN
  pluginConfig: { header: x-wasm }
`;

// The ingress gateway's other servers: HTTPS with a credentialName, TLS passthrough and TCP, with their routes.
const GATEWAY_SERVERS = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: istio-system }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: ["default/bookinfo.example.com"]
    tls: { mode: SIMPLE, credentialName: bookinfo-cert, minProtocolVersion: TLSV1_2 }
  - port: { number: 8443, name: tls-passthrough, protocol: TLS }
    hosts: ["default/ratings.example.com"]
    tls: { mode: PASSTHROUGH }
  - port: { number: 3306, name: tcp-db, protocol: TCP }
    hosts: ["default/*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: edge-routes, namespace: default }
spec:
  hosts: [bookinfo.example.com, ratings.example.com]
  gateways: [istio-system/edge]
  http:
  - match: [{ uri: { prefix: /productpage } }]
    route: [{ destination: { host: productpage, port: { number: 9080 } } }]
  tls:
  - match: [{ port: 8443, sniHosts: [ratings.example.com] }]
    route: [{ destination: { host: ratings, port: { number: 9080 } } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: edge-tcp, namespace: default }
spec:
  hosts: ["*"]
  gateways: [istio-system/edge]
  tcp:
  - match: [{ port: 3306 }]
    route: [{ destination: { host: details, port: { number: 9080 } } }]
`;

// A Kubernetes Gateway API gateway (Istio's Gateway API Bookinfo sample) with an HTTPRoute using its filters.
const GATEWAY_API = `
${readFileSync(new URL('gateway-api/fixtures/bookinfo-gateway.yaml', import.meta.url), 'utf8')}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: filters, namespace: default }
spec:
  parentRefs: [{ name: bookinfo-gateway }]
  hostnames: ["filters.example.com"]
  rules:
  - matches: [{ path: { type: PathPrefix, value: /old } }]
    filters: [{ type: RequestRedirect, requestRedirect: { scheme: https, statusCode: 301 } }]
  - matches: [{ path: { type: PathPrefix, value: /api }, headers: [{ name: x-env, value: canary }] }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: { set: [{ name: x-gw, value: "1" }], remove: [x-drop] }
    - type: URLRewrite
      urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /v2 } }
    - type: RequestMirror
      requestMirror: { backendRef: { name: ratings, port: 9080 } }
    backendRefs: [{ name: productpage, port: 9080, weight: 90 }, { name: reviews, port: 9080, weight: 10 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  gatewayClassName: istio
  listeners:
  - { name: https, port: 443, protocol: HTTPS, hostname: shop.example.com, tls: { certificateRefs: [{ name: shop-cert }] } }
  - { name: passthrough, port: 8443, protocol: TLS, tls: { mode: Passthrough } }
  - { name: postgres, port: 5432, protocol: TCP }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: grpc, namespace: default }
spec:
  parentRefs: [{ name: edge, sectionName: https }]
  hostnames: [shop.example.com]
  rules: [{ matches: [{ method: { service: shop.Cart } }], backendRefs: [{ name: details, port: 9080 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: { name: tls-app, namespace: default }
spec:
  parentRefs: [{ name: edge, sectionName: passthrough }]
  hostnames: [app.example.com]
  rules: [{ backendRefs: [{ name: ratings, port: 9080 }] }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: db, namespace: default }
spec:
  parentRefs: [{ name: edge, sectionName: postgres }]
  rules: [{ backendRefs: [{ name: details, port: 9080 }] }]
`;

const { snapshot } = meshFromYaml(`${BOOKINFO}\n---\n${FEATURES}\n---\n${GATEWAY_SERVERS}\n---\n${GATEWAY_API}`);

const PROXIES = [
  testProxy({ labels: { app: 'productpage', version: 'v1' }, name: 'productpage-v1', serviceAccount: 'bookinfo-productpage' }),
  testProxy({ labels: { app: 'reviews', version: 'v2' }, name: 'reviews-v2', serviceAccount: 'bookinfo-reviews' }),
  testProxy({ labels: { app: 'ratings', version: 'v1' }, name: 'ratings-v1', serviceAccount: 'bookinfo-ratings' }),
  testProxy({ type: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway' }, name: 'istio-ingressgateway-1' }),
  testProxy({ type: 'router', name: 'bookinfo-gateway-istio-abc', labels: { 'gateway.networking.k8s.io/gateway-name': 'bookinfo-gateway' } }),
  testProxy({ type: 'router', name: 'edge-istio-abc', labels: { 'gateway.networking.k8s.io/gateway-name': 'edge' } }),
];

/** The @type of every Any in a resource (typed configs, transport sockets, nested ones). */
function anyTypes(schema: DescMessage, m: Message, into: Set<string>): void {
  for (const t of toJsonString(schema, m, { registry: XDS_REGISTRY }).matchAll(/"@type":"type\.googleapis\.com\/([^"]+)"/g)) into.add(t[1] as string);
}

describe("the control plane's xDS passes Envoy's protoc-gen-validate constraints", () => {
  const typesSeen = new Set<string>();
  for (const proxy of PROXIES) {
    it(proxy.id, () => {
      const r = translate(snapshot, proxy);
      for (const l of r.listeners) anyTypes(ListenerSchema, l, typesSeen);
      for (const c of r.clusters) anyTypes(ClusterSchema, c, typesSeen);
      for (const rc of r.routes) anyTypes(RouteConfigurationSchema, rc, typesSeen);
      const problems = envoyConstraintProblems(r);
      assert.deepEqual(problems, []);
      if (proxy.id.startsWith('router~10.0.0.1~istio-ingressgateway')) {
        // The HTTPS, TLS passthrough and TCP servers made listeners of their own.
        for (const port of [443, 8443, 3306]) assert.ok(r.listeners.some((l) => l.name === `0.0.0.0_${port}`), `no listener for ${port}: ${r.listeners.map((l) => l.name).join(', ')}`);
      }
      if (proxy.id.includes('edge-istio')) {
        // The Gateway API HTTPS, TLS and TCP listeners, with the GRPCRoute, TLSRoute and TCPRoute behind them.
        for (const port of [443, 8443, 5432]) assert.ok(r.listeners.some((l) => l.name === `0.0.0.0_${port}`), `no listener for ${port}: ${r.listeners.map((l) => l.name).join(', ')}`);
      }
      if (proxy.id.includes('bookinfo-gateway-istio')) {
        // The HTTPRoute's redirect and mirror made it into the routes.
        const routes = r.routes.flatMap((rc) => rc.virtualHosts.flatMap((vh) => vh.routes));
        assert.ok(routes.some((x) => x.action.case === 'redirect'));
        assert.ok(routes.some((x) => x.action.case === 'route' && x.action.value.requestMirrorPolicies.length > 0));
      }
      // The mesh is not empty for any of them: listeners, routes and clusters were all checked.
      assert.ok(r.listeners.length > 0 && r.routes.length > 0 && r.clusters.length > 0);
    });
  }

  it('covered the typed configs this mesh makes: authorization, JWT, fault, CORS, Wasm, access logs, TLS both ways, TCP', () => {
    for (const t of [
      'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
      'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
      'envoy.extensions.filters.http.rbac.v3.RBAC',
      'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
      'envoy.extensions.filters.http.fault.v3.HTTPFault',
      'envoy.extensions.filters.http.cors.v3.Cors',
      'envoy.extensions.filters.http.wasm.v3.Wasm',
      'envoy.extensions.access_loggers.file.v3.FileAccessLog',
      'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    ])
      assert.ok(typesSeen.has(t), `${t} not in the output: ${[...typesSeen].sort().join(', ')}`);
  });

  it('looks inside typed configs: a connection manager with its stat_prefix cleared is reported', () => {
    const r = translate(snapshot, PROXIES[3] as (typeof PROXIES)[number]);
    const listener = r.listeners.find((l) => l.filterChains.some((fc) => fc.filters.some((f) => f.configType.case === 'typedConfig' && f.configType.value.typeUrl.endsWith(HttpConnectionManagerSchema.typeName))));
    assert.ok(listener !== undefined);
    const broken = clone(ListenerSchema, listener);
    const filter = broken.filterChains.flatMap((fc) => fc.filters).find((f) => f.configType.case === 'typedConfig' && f.configType.value.typeUrl.endsWith(HttpConnectionManagerSchema.typeName));
    assert.ok(filter !== undefined && filter.configType.case === 'typedConfig');
    const hcm = anyUnpack(filter.configType.value, HttpConnectionManagerSchema);
    assert.ok(hcm !== undefined);
    hcm.statPrefix = '';
    filter.configType = { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) };
    const problems = pgvProblems(ListenerSchema, broken, { registry: XDS_REGISTRY });
    assert.equal(problems.length, 1);
    assert.match(problems[0] as string, /\.typed_config\.stat_prefix: value length must be at least 1 characters$/);
  });
});

// The MeshConfig extension providers: tracing over OTLP/HTTP (with and without a timeout), OTLP/gRPC and
// Zipkin, and ext_authz over HTTP and gRPC for CUSTOM authorization, each in a mesh of its own.
const COLLECTORS = `
apiVersion: v1
kind: Service
metadata: { name: otel-collector, namespace: observability }
spec: { selector: { app: otel-collector }, ports: [{ name: http-otlp, port: 4318 }, { name: grpc-otlp, port: 4317 }] }
---
apiVersion: v1
kind: Service
metadata: { name: zipkin, namespace: istio-system }
spec: { selector: { app: zipkin }, ports: [{ name: http-zipkin, port: 9411 }] }
---
apiVersion: v1
kind: Service
metadata: { name: ext-authz, namespace: default }
spec: { selector: { app: ext-authz }, ports: [{ name: http, port: 8000 }, { name: grpc, port: 9000 }] }
`;

const PROVIDERS: readonly { readonly name: string; readonly provider: Record<string, unknown>; readonly tracing: boolean }[] = [
  { name: 'otel-http', provider: { opentelemetry: { service: 'otel-collector.observability.svc.cluster.local', port: 4318, http: { path: '/v1/traces' } } }, tracing: true },
  { name: 'otel-http-timeout', provider: { opentelemetry: { service: 'otel-collector.observability.svc.cluster.local', port: 4318, http: { path: '/v1/traces', timeout: '2s' } } }, tracing: true },
  { name: 'otel-grpc', provider: { opentelemetry: { service: 'otel-collector.observability.svc.cluster.local', port: 4317 } }, tracing: true },
  { name: 'zipkin', provider: { zipkin: { service: 'zipkin.istio-system.svc.cluster.local', port: 9411 } }, tracing: true },
  { name: 'authz-http', provider: { envoyExtAuthzHttp: { service: 'ext-authz.default.svc.cluster.local', port: 8000, includeRequestHeadersInCheck: ['x-allow'] } }, tracing: false },
  { name: 'authz-grpc', provider: { envoyExtAuthzGrpc: { service: 'ext-authz.default.svc.cluster.local', port: 9000, timeout: '1s' } }, tracing: false },
];

describe("extension providers' configs pass Envoy's protoc-gen-validate constraints", () => {
  for (const p of PROVIDERS) {
    it(p.name, () => {
      const mesh = parseMeshConfig({ extensionProviders: [{ name: p.name, ...p.provider }] });
      assert.ok(mesh.ok, JSON.stringify(mesh));
      const use = p.tracing
        ? `apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: { name: mesh-default, namespace: istio-system }\nspec: { tracing: [{ providers: [{ name: ${p.name} }], randomSamplingPercentage: 10 }] }\n`
        : `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ext, namespace: default }\nspec: { selector: { matchLabels: { app: productpage } }, action: CUSTOM, provider: { name: ${p.name} }, rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }] }\n`;
      const { snapshot: s } = meshFromYaml(`${BOOKINFO}\n---\n${COLLECTORS}\n---\n${use}`, { mesh: mesh.value });
      const r = translate(s, PROXIES[0] as (typeof PROXIES)[number]);
      const problems = r.listeners.flatMap((l) => pgvProblems(ListenerSchema, l, { registry: XDS_REGISTRY }).map((x) => `${l.name}: ${x}`));
      assert.deepEqual(problems, []);
      const seen = new Set<string>();
      for (const l of r.listeners) anyTypes(ListenerSchema, l, seen);
      const want = p.tracing ? (p.name === 'zipkin' ? 'envoy.config.trace.v3.ZipkinConfig' : 'envoy.config.trace.v3.OpenTelemetryConfig') : 'envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
      assert.ok(seen.has(want), `${want} not in the output`);
    });
  }
});
