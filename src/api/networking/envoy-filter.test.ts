import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid, validateYaml } from '../../../test/support/kinds.js';
import { effectivePatchContext, ENVOY_FILTER, type EnvoyFilter } from './envoy-filter.js';

const K = [ENVOY_FILTER];
const head = (spec: string, v = 'v1alpha3'): string =>
  `apiVersion: networking.istio.io/${v}\nkind: EnvoyFilter\nmetadata: {name: ef, namespace: istio-system}\nspec:\n${spec}`;
const ALWAYS =
  'EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.';
const messages = (w: readonly { path: string; message: string }[]): string[] => w.map((i) => `${i.path}: ${i.message}`);

describe('EnvoyFilter', () => {
  it('is served as v1alpha3 only', () => {
    expectValid(head('  configPatches: []\n'), K);
    const out = validateYaml(head('  configPatches: []\n', 'v1'), K);
    assert.ok(!out.ok);
    assert.match(out.issues[0]?.message ?? '', /version "v1" of EnvoyFilter is not served; use one of networking.istio.io\/v1alpha3/);
  });

  it('accepts realistic filters from the Istio docs, always warning that EnvoyFilter is internal', () => {
    // https://istio.io/latest/docs/reference/config/networking/envoy-filter/
    const w = expectValid(
      head(`  workloadSelector:
    labels: {app: reviews}
  configPatches:
  - applyTo: NETWORK_FILTER
    match:
      context: SIDECAR_INBOUND
      listener:
        portNumber: 8080
        filterChain:
          filter: {name: envoy.filters.network.http_connection_manager}
    patch:
      operation: MERGE
      value:
        name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          idle_timeout: 30s
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_OUTBOUND
      listener:
        portNumber: 8080
        filterChain:
          filter:
            name: envoy.filters.network.http_connection_manager
            subFilter: {name: envoy.filters.http.router}
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.lua
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
          inlineCode: "function envoy_on_request(request_handle) end"
  - applyTo: CLUSTER
    match:
      context: SIDECAR_OUTBOUND
    patch:
      operation: ADD
      value:
        name: lua_cluster
        type: STRICT_DNS
        connect_timeout: 0.5s
  - applyTo: VIRTUAL_HOST
    match:
      context: GATEWAY
      routeConfiguration:
        portNumber: 443
        vhost: {name: "www.example.com:443", route: {action: ANY}}
    patch:
      operation: MERGE
      value: {request_headers_to_add: []}
`),
      K,
    );
    assert.deepEqual(messages(w), [`: ${ALWAYS}`]);
  });

  it('accepts the waypoint and merge-and-replace examples from Istio testdata', () => {
    expectValid(
      head(`  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: WAYPOINT
      waypoint:
        filter:
          name: envoy.filters.network.http_connection_manager
          subFilter: {name: envoy.filters.http.router}
    patch: {operation: REMOVE}
  - applyTo: CLUSTER
    match: {context: WAYPOINT, waypoint: {}}
    patch: {operation: REMOVE}
  - applyTo: NETWORK_FILTER
    match:
      listener:
        filterChain: {transportProtocol: tls}
    patch:
      operation: MERGE_AND_REPLACE_LIST
      value:
        name: envoy.filters.network.http_connection_manager
`),
      K,
    );
  });

  it('validates a full-featured filter with every field', () => {
    const w = expectValid(
      head(`  targetRefs:
  - {group: gateway.networking.k8s.io, kind: Gateway, name: waypoint}
  priority: -10
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: GATEWAY
      proxy:
        proxyVersion: '^1\\.2[0-9].*'
        metadata: {ISTIO_VERSION: "1.30"}
      listener:
        portNumber: 443
        portName: https
        name: "0.0.0.0_443"
        listenerFilter: envoy.filters.listener.tls_inspector
        filterChain:
          name: chain
          sni: www.example.com
          transportProtocol: tls
          applicationProtocols: h2
          destinationPort: 443
          filter:
            name: envoy.filters.network.http_connection_manager
            subFilter: {name: envoy.filters.http.router}
    patch:
      operation: INSERT_FIRST
      filterClass: AUTHZ
      value: {name: envoy.filters.http.ext_authz}
  - applyTo: CLUSTER
    match:
      cluster: {portNumber: 80, service: foo.default.svc.cluster.local, subset: v1, name: "outbound|80|v1|foo.default.svc.cluster.local"}
    patch: {operation: MERGE, value: {connect_timeout: 1s}}
  - applyTo: HTTP_ROUTE
    match:
      routeConfiguration:
        portNumber: 80
        portName: http
        gateway: istio-system/gw
        name: http.80
        vhost: {name: "foo:80", domainName: foo.example.com, route: {name: default, action: ROUTE}}
    patch: {operation: MERGE, value: {decorator: {operation: foo}}}
  - applyTo: EXTENSION_CONFIG
    patch: {operation: ADD, value: {name: my-wasm}}
  - applyTo: BOOTSTRAP
    patch: {operation: MERGE, value: {stats_flush_interval: 5s}}
  - applyTo: LISTENER_FILTER
    match: {context: SIDECAR_INBOUND, listener: {portNumber: 15006}}
    patch: {operation: INSERT_FIRST, value: {name: envoy.filters.listener.proxy_protocol}}
  - applyTo: HTTP_FILTER
    match:
      context: WAYPOINT
      waypoint:
        portNumber: 15008
        route: {name: default}
        filter: {name: envoy.filters.network.http_connection_manager, subFilter: {name: envoy.filters.http.router}}
    patch: {operation: INSERT_BEFORE, value: {name: x}}
`),
      K,
    );
    assert.deepEqual(messages(w), [`: ${ALWAYS}`]);
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    {
      name: 'a missing applyTo',
      spec: '  configPatches:\n  - patch: {operation: REMOVE}\n',
      path: 'spec.configPatches[0].applyTo',
      message: 'Envoy filter: missing applyTo',
    },
    {
      name: 'a missing patch',
      spec: '  configPatches:\n  - applyTo: CLUSTER\n',
      path: 'spec.configPatches[0].patch',
      message: 'Envoy filter: missing patch',
    },
    {
      name: 'a missing operation',
      spec: '  configPatches:\n  - applyTo: CLUSTER\n    patch: {value: {name: a}}\n',
      path: 'spec.configPatches[0].patch.operation',
      message: 'Envoy filter: missing patch operation',
    },
    {
      name: 'a missing value for MERGE',
      spec: '  configPatches:\n  - applyTo: CLUSTER\n    patch: {operation: MERGE}\n',
      path: 'spec.configPatches[0].patch.value',
      message: 'Envoy filter: missing patch value for non-remove operation',
    },
    {
      name: 'a proxyVersion that is not a regex',
      spec: "  configPatches:\n  - applyTo: CLUSTER\n    match: {proxy: {proxyVersion: '1\\.2(.*'}}\n    patch: {operation: REMOVE}\n",
      path: 'spec.configPatches[0].match.proxy.proxyVersion',
      message: 'Envoy filter: invalid regex for proxy version, [error parsing regexp: missing closing ): `1\\.2(.*`]',
    },
    {
      name: 'a listener patch with a cluster match',
      spec: '  configPatches:\n  - applyTo: HTTP_FILTER\n    match: {cluster: {service: foo.com}}\n    patch: {operation: REMOVE}\n',
      path: 'spec.configPatches[0].match',
      message: 'Envoy filter: applyTo for listener class objects cannot have non listener match',
    },
    {
      name: 'a route patch with a listener match',
      spec: '  configPatches:\n  - applyTo: HTTP_ROUTE\n    match: {listener: {portNumber: 80}}\n    patch: {operation: MERGE, value: {}}\n',
      path: 'spec.configPatches[0].match',
      message: 'Envoy filter: applyTo for http route class objects cannot have non route configuration match',
    },
    {
      name: 'a cluster patch with a route match',
      spec: '  configPatches:\n  - applyTo: CLUSTER\n    match: {routeConfiguration: {portNumber: 80}}\n    patch: {operation: REMOVE}\n',
      path: 'spec.configPatches[0].match',
      message: 'Envoy filter: applyTo for cluster class objects cannot have non cluster match',
    },
    {
      name: 'a filter match without name',
      spec: '  configPatches:\n  - applyTo: NETWORK_FILTER\n    match: {listener: {filterChain: {filter: {}}}}\n    patch: {operation: REMOVE}\n',
      path: 'spec.configPatches[0].match.listener.filterChain.filter.name',
      message: 'Envoy filter: filter match has no name to match on',
    },
    {
      name: 'a subFilter match outside HTTP_FILTER',
      spec: '  configPatches:\n  - applyTo: NETWORK_FILTER\n    match: {listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager, subFilter: {name: a}}}}}\n    patch: {operation: REMOVE}\n',
      path: 'spec.configPatches[0].match.listener.filterChain.filter.subFilter',
      message: 'Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only',
    },
    {
      name: 'a subFilter match under another network filter',
      spec: '  configPatches:\n  - applyTo: HTTP_FILTER\n    match: {listener: {filterChain: {filter: {name: envoy.filters.network.tcp_proxy, subFilter: {name: a}}}}}\n    patch: {operation: REMOVE}\n',
      path: 'spec.configPatches[0].match.listener.filterChain.filter.name',
      message: 'Envoy filter: subfilter match requires filter match with envoy.filters.network.http_connection_manager',
    },
    {
      name: 'a subFilter match without name',
      spec: '  configPatches:\n  - applyTo: HTTP_FILTER\n    match: {listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager, subFilter: {}}}}}\n    patch: {operation: REMOVE}\n',
      path: 'spec.configPatches[0].match.listener.filterChain.filter.subFilter.name',
      message: 'Envoy filter: subfilter match has no name to match on',
    },
    {
      name: 'a waypoint match outside the WAYPOINT context',
      spec: '  configPatches:\n  - applyTo: HTTP_FILTER\n    match: {context: SIDECAR_INBOUND, waypoint: {filter: {name: a}}}\n    patch: {operation: REMOVE}\n',
      path: 'spec.configPatches[0].match',
      message: 'only support waypointMatch when context is WAYPOINT',
    },
    {
      name: 'a WAYPOINT context with a listener match',
      spec: '  configPatches:\n  - applyTo: HTTP_FILTER\n    match: {context: WAYPOINT, listener: {portNumber: 80}}\n',
      path: 'spec.configPatches[0].match',
      message: 'only support waypointMatch when context is WAYPOINT',
    },
    {
      name: 'a waypoint port out of range',
      spec: '  configPatches:\n  - applyTo: HTTP_FILTER\n    match: {context: WAYPOINT, waypoint: {portNumber: 65536}}\n',
      path: 'spec.configPatches[0].match.waypoint.portNumber',
      message: 'port must be between 1-65535',
    },
    {
      name: 'two object matches (oneof)',
      spec: '  configPatches:\n  - applyTo: CLUSTER\n    match: {cluster: {}, listener: {}}\n    patch: {operation: REMOVE}\n',
      path: 'spec.configPatches[0].match',
      message: 'only one of listener, routeConfiguration, cluster, waypoint may be set (got listener and cluster)',
    },
    {
      name: 'both workloadSelector and targetRefs',
      spec: '  workloadSelector: {labels: {app: a}}\n  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]\n',
      path: 'spec',
      message: 'only one of targetRefs or workloadSelector can be set',
    },
    {
      name: 'a cross-namespace targetRef',
      spec: '  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw, namespace: other}]\n',
      path: 'spec.targetRefs[0].namespace',
      message: 'targetRef namespace must not be set; cross namespace referencing is not supported',
    },
    {
      name: 'a targetRef without name',
      spec: '  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io}]\n',
      path: 'spec.targetRefs[0].name',
      message: 'targetRef name must be set',
    },
    {
      name: 'a wildcard selector',
      spec: '  workloadSelector: {labels: {app: "*"}}\n',
      path: 'spec.workloadSelector.labels.app',
      message: 'wildcard is not supported in selector: "app=*"',
    },
    {
      name: 'an unknown applyTo',
      spec: '  configPatches:\n  - applyTo: ROUTE\n    patch: {operation: REMOVE}\n',
      path: 'spec.configPatches[0].applyTo',
      message: 'must be one of INVALID, LISTENER',
    },
    {
      name: 'a patch value that is not an object',
      spec: '  configPatches:\n  - applyTo: CLUSTER\n    patch: {operation: ADD, value: "name: x"}\n',
      path: 'spec.configPatches[0].patch.value',
      message: 'must be an object',
    },
    {
      name: 'the removed workloadLabels field',
      spec: '  workloadLabels: {app: a}\n',
      path: 'spec.workloadLabels',
      message: 'unknown field "workloadLabels"',
    },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec), K, [{ path: c.path, message: c.message }]);
    });

  it('warns on deprecated filter names, ignored filter matches, odd operations and empty selectors', () => {
    const w = expectValid(
      head(`  workloadSelector: {}
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      listener:
        filterChain:
          filter: {name: envoy.http_connection_manager, subFilter: {name: envoy.router}}
    patch: {operation: INSERT_BEFORE, value: {name: x}}
  - applyTo: LISTENER
    match:
      listener:
        filterChain:
          filter: {name: envoy.filters.network.tcp_proxy}
    patch: {operation: MERGE, value: {}}
  - applyTo: ROUTE_CONFIGURATION
    patch: {operation: ADD, value: {}}
  - applyTo: HTTP_ROUTE
    patch: {operation: REMOVE}
  - applyTo: CLUSTER
    patch: {operation: REPLACE, value: {}}
  - applyTo: CLUSTER
    match: {proxy: {proxyVersion: '${'1'.repeat(1025)}'}}
    patch: {operation: REMOVE}
`),
      K,
    );
    assert.deepEqual(messages(w), [
      `: ${ALWAYS}`,
      'spec.workloadSelector: Envoy filter: workload selector specified without labels, will be applied to all services in namespace',
      'spec.configPatches[0].match.listener.filterChain.filter.name: using deprecated filter name "envoy.http_connection_manager"; use "envoy.filters.network.http_connection_manager" instead',
      'spec.configPatches[0].match.listener.filterChain.filter.subFilter.name: using deprecated filter name "envoy.router"; use "envoy.filters.http.router" instead',
      'spec.configPatches[1].match.listener.filterChain.filter: Envoy filter: filter match has no effect when used with LISTENER',
      'spec.configPatches[2].patch.operation: The ADD operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.',
      'spec.configPatches[3].patch.operation: The REMOVE operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.',
      'spec.configPatches[4].patch.operation: The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER.',
      'spec.configPatches[5].match.proxy.proxyVersion: Envoy filter: proxyVersion match exceeds 1024 characters and will be ignored',
    ]);
  });

  it('warns, without rejecting, on a targetRef kind Istio does not attach EnvoyFilters to', () => {
    const w = expectValid(head('  targetRefs: [{kind: Deployment, group: apps, name: d}]\n'), K);
    assert.ok(messages(w).some((m) => m.startsWith('spec.targetRefs[0]: targetRef must be to one of')));
  });

  it('keeps the patch value as written (a Struct)', () => {
    const out = validateYaml(
      head('  configPatches:\n  - applyTo: CLUSTER\n    patch:\n      operation: ADD\n      value: {name: c, load_assignment: {endpoints: [{lb_endpoints: []}]}}\n'),
      K,
    );
    assert.ok(out.ok);
    const spec = (out.resource as EnvoyFilter).spec;
    assert.deepEqual(spec.configPatches?.[0]?.patch?.value, { name: 'c', load_assignment: { endpoints: [{ lb_endpoints: [] }] } });
    assert.equal(effectivePatchContext(spec.configPatches?.[0] ?? {}), 'ANY');
  });

  it('reports every problem at once', () => {
    const issues = expectInvalid(
      head('  configPatches:\n  - applyTo: CLUSTER\n  - patch: {operation: MERGE}\n  - applyTo: LISTENER\n    match: {cluster: {}}\n    patch: {operation: REMOVE}\n    extra: true\n'),
      K,
      [
        { path: 'spec.configPatches[0].patch', message: 'Envoy filter: missing patch' },
        { path: 'spec.configPatches[1].applyTo', message: 'Envoy filter: missing applyTo' },
        { path: 'spec.configPatches[2].match', message: 'cannot have non listener match' },
        { path: 'spec.configPatches[2].extra', message: 'unknown field "extra"' },
      ],
    );
    assert.equal(issues.filter((i) => i.severity === 'error').length, 4);
  });
});
