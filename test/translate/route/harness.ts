// Route translation under test: RDS from translate() for one proxy, plus the smallest listeners that point at
// each route config (an HCM over RDS bound to the port, a TLS-terminating chain for gateway HTTPS servers, an
// api_listener for proxyless gRPC), so the traffic simulation can walk listener -> route config -> virtual
// host -> route -> cluster without depending on the listener builder. Clusters are not checked here: the
// cluster builder has its own tests.

import type { JsonValue } from '@bufbuild/protobuf';
import { buildProxyContext } from '../../../src/translate/context.js';
import { buildRoutes } from '../../../src/translate/route/build-routes.js';
import { translate } from '../../../src/translate/translate.js';
import type { ProxyResources } from '../../../src/translate/resources.js';
import type { RouteConfiguration } from '../../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema } from '../../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import { toDumpJson } from '../../../src/xds/codec.js';
import type { MeshConfig } from '../../../src/model/mesh-config.js';
import { DEFAULT_MESH_CONFIG } from '../../../src/model/mesh-config.js';
import type { PilotFeatures } from '../../../src/model/pilot-features.js';
import type { ResourceEntry } from '../../../src/api/entry.js';
import { snapshotFromConfig } from '../../../src/model/build-snapshot.js';
import { dumpResources } from '../../support/golden.js';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../../support/mesh.js';
import { expectRoute, type Call, type Expectation, type Result } from '../../support/simulate.js';
import { apiListener, filterChain, hcmFilter, httpListener, listener, resources } from '../../support/xds-fixtures.js';

export interface RouteWorld {
  readonly routes: readonly RouteConfiguration[];
  readonly resources: ProxyResources;
  /** The route configs as config_dump JSON, for goldens. */
  readonly dump: JsonValue[];
  route(name: string): RouteConfiguration;
  /** Simulates `call` and checks `want` (see test/support/simulate.ts); cluster existence is not checked. */
  expect(call: Call, want: Expectation): Result;
  /** Clusters the routes name that the full translation (CDS) does not produce. */
  missingClusters(): string[];
}

export interface WorldOptions {
  readonly mesh?: Partial<MeshConfig>;
  /** istiod's feature flags (PILOT_* variables); Istio's defaults when absent. */
  readonly features?: PilotFeatures;
  /**
   * Changes the validated entries before the snapshot is built: for input validation refuses but Istio's
   * translation still handles (e.g. a label value Kubernetes would not accept).
   */
  readonly editEntries?: (entries: readonly ResourceEntry[]) => readonly ResourceEntry[];
}

function listenersFor(routes: readonly RouteConfiguration[], vipOf: (host: string) => string | undefined, type: string): ProxyResources['listeners'] {
  const out: ProxyResources['listeners'][number][] = [];
  for (const rc of routes) {
    const name = rc.name;
    if (type === 'proxyless') {
      // gRPC names its listener after the dial target: the FQDN, or the short name in the same namespace.
      const [, port = '', , host = ''] = name.split('|');
      out.push(apiListener(`${host}:${port}`, name));
      const short = host.split('.')[0] ?? host;
      if (short !== host) out.push(apiListener(`${short}:${port}`, name));
    } else if (/^\d+$/.test(name)) {
      out.push(httpListener({ name: `0.0.0.0_${name}`, port: Number(name), routeName: name }));
    } else if (name.startsWith('http.')) {
      const port = Number(name.split('.')[1]);
      out.push(httpListener({ name: `0.0.0.0_${port}`, port, routeName: name }));
    } else if (name.startsWith('https.')) {
      const port = Number(name.split('.')[1]);
      out.push(listener({ name: `0.0.0.0_${port}`, port, chains: [filterChain({ name, tls: 'tls', filters: [hcmFilter({ rds: name })] })], listenerFilters: ['tls_inspector'] }));
    } else {
      const colon = name.lastIndexOf(':');
      const host = name.slice(0, colon);
      const port = Number(name.slice(colon + 1));
      const vip = vipOf(host);
      if (vip !== undefined) out.push(httpListener({ name: `${vip}_${port}`, address: vip, port, routeName: name }));
    }
  }
  return out;
}

/** Translates `yaml` for the proxy and wraps the routes in minimal listeners. */
export function routeWorld(yaml: string, proxy: TestProxyOptions, opts: WorldOptions = {}): RouteWorld {
  const snapOpts = { mesh: { ...DEFAULT_MESH_CONFIG, ...opts.mesh }, ...(opts.features !== undefined ? { features: opts.features } : {}) };
  const built = meshFromYaml(yaml, snapOpts);
  const snapshot = opts.editEntries !== undefined ? snapshotFromConfig(opts.editEntries(built.entries), snapOpts) : built.snapshot;
  const p = testProxy(proxy);
  const routes = buildRoutes(buildProxyContext(snapshot, p)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const vipOf = (host: string): string | undefined => snapshot.services.find((s) => s.hostname === host)?.addresses[0];
  const res = resources({ listeners: listenersFor(routes, vipOf, p.type), routes });
  return {
    routes,
    resources: res,
    dump: dumpResources(res).routes,
    route(name) {
      const rc = routes.find((r) => r.name === name);
      if (rc === undefined) throw new Error(`no route config ${name}; have ${routes.map((r) => r.name).join(', ')}`);
      return rc;
    },
    expect(call, want) {
      return expectRoute(res, call, want, { requireClusters: false });
    },
    missingClusters() {
      const cds = new Set(translate(snapshot, p).clusters.map((c) => c.name));
      const named = new Set<string>();
      for (const rc of routes) {
        for (const vh of rc.virtualHosts) {
          for (const r of vh.routes) {
            if (r.action.case !== 'route') continue;
            const spec = r.action.value.clusterSpecifier;
            if (spec.case === 'cluster') named.add(spec.value);
            else if (spec.case === 'weightedClusters') for (const c of spec.value.clusters) named.add(c.name);
            for (const m of r.action.value.requestMirrorPolicies) named.add(m.cluster);
          }
        }
      }
      return [...named].filter((n) => !cds.has(n)).sort();
    },
  };
}

/** A Kubernetes Service with a ClusterIP and a Deployment behind it, `ports` as `name:port`. */
export function service(name: string, opts: { namespace?: string; ip?: string; ports?: readonly string[]; versions?: readonly string[]; labels?: Readonly<Record<string, string>> } = {}): string {
  const ns = opts.namespace ?? 'default';
  const ports = (opts.ports ?? ['http:9080']).map((p) => {
    const [pn, num] = p.split(':');
    return `  - {name: ${pn}, port: ${num}}`;
  });
  const deployments = (opts.versions ?? ['v1']).map(
    (v) => `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}-${v}, namespace: ${ns}, labels: {app: ${name}, version: ${v}}}
spec:
  selector: {matchLabels: {app: ${name}, version: ${v}}}
  template:
    metadata: {labels: {app: ${name}, version: ${v}}}
    spec: {containers: [{name: ${name}, image: ${name}:${v}}]}
`,
  );
  return `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}, labels: ${JSON.stringify({ app: name, ...opts.labels })}}
spec:
  ${opts.ip !== undefined ? `clusterIP: ${opts.ip}\n  ` : ''}selector: {app: ${name}}
  ports:
${ports.join('\n')}
${deployments.join('')}`;
}

/** The virtual host of `host:port` in route config `routeName`, as config_dump JSON (for per-feature goldens). */
export function vhostDump(w: RouteWorld, routeName: string, vhostName: string): JsonValue {
  const vh = w.route(routeName).virtualHosts.find((v) => v.name === vhostName);
  if (vh === undefined) throw new Error(`route config ${routeName} has no virtual host ${vhostName}`);
  return toDumpJson(VirtualHostSchema, vh);
}

/** Bookinfo-like reviews service (v1..v3) with subsets, productpage as the caller, and `extra` config. */
export function reviewsWorld(extra: string, opts: WorldOptions = {}, proxy: TestProxyOptions = { labels: { app: 'productpage', version: 'v1' }, name: 'productpage-v1' }): RouteWorld {
  return routeWorld(
    `${service('reviews', { ip: '10.96.0.10', versions: ['v1', 'v2', 'v3'] })}${service('productpage', { ip: '10.96.0.50' })}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
${extra}`,
    proxy,
    opts,
  );
}

export const REVIEWS_VHOST = 'reviews.default.svc.cluster.local:9080';
