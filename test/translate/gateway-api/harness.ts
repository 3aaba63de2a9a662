// Test support for Gateway API config through the real translation: the snapshot from inline YAML (and
// Istio's Gateway API bookinfo samples in fixtures/), translate() for one proxy, and simulated calls, with
// what the simulation leaves to the caller: the path Envoy forwards after a rewrite, and the status it
// answers for a cluster that does not exist.

import { readFileSync } from 'node:fs';
import { RE2JS } from 're2js';
import { RouteAction_ClusterNotFoundResponseCode as NotFoundCode, type Route } from '../../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { MeshSnapshot } from '../../../src/model/snapshot.js';
import { translate } from '../../../src/translate/translate.js';
import type { ProxyResources } from '../../../src/translate/resources.js';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../../support/mesh.js';
import { expectRoute, simulate, type Call, type Expectation, type Result } from '../../support/simulate.js';

/** The pod Istio's automated deployment runs for Gateway `name` in `namespace`. */
export function gatewayPod(name: string, namespace = 'default'): TestProxyOptions {
  return { type: 'router', name: `${name}-istio-abc`, namespace, ip: '10.1.0.50', labels: { 'gateway.networking.k8s.io/gateway-name': name } };
}

export interface World {
  readonly snapshot: MeshSnapshot;
  readonly resources: ProxyResources;
  /** Problems of the snapshot as `path: message` lines. */
  readonly problems: readonly string[];
  /** Simulates `call` and checks `want`; routed clusters must exist unless `requireClusters` is false. */
  expect(call: Call, want: Expectation, requireClusters?: boolean): Result;
  simulate(call: Call): Result;
}

export function world(yaml: string, proxy: TestProxyOptions): World {
  const { snapshot } = meshFromYaml(yaml);
  const resources = translate(snapshot, testProxy(proxy));
  return {
    snapshot,
    resources,
    problems: snapshot.problems.map((p) => `${p.path}: ${p.message}`),
    expect: (call, want, requireClusters = true) => expectRoute(resources, call, want, { requireClusters }),
    simulate: (call) => simulate(resources, call),
  };
}

export function fixture(name: string): string {
  return readFileSync(new URL(`fixtures/${name}.yaml`, import.meta.url), 'utf8');
}

/** Istio's bookinfo platform file (Services, Deployments) from the shared corpus. */
export function bookinfoPlatform(): string {
  return readFileSync(new URL('../../../../shared/corpus/istio-bookinfo/platform/kube/bookinfo.yaml', import.meta.url), 'utf8');
}

export function bookinfoVersions(): string {
  return readFileSync(new URL('../../../../shared/corpus/istio-bookinfo/platform/kube/bookinfo-versions.yaml', import.meta.url), 'utf8');
}

/** A Kubernetes Service `name` in `ns` with one port (protocol from the name prefix), selecting `app: name`. */
export function svc(name: string, port: number, ns = 'default', portName = `port-${port}`): string {
  return `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec: {selector: {app: ${name}}, ports: [{name: ${portName}, port: ${port}}]}
`;
}

/** A cluster name as Istio names it: outbound|<port>||<name>.<ns>.svc.cluster.local. */
export function cluster(name: string, port: number, ns = 'default'): string {
  return `outbound|${port}||${name}.${ns}.svc.cluster.local`;
}

/**
 * The path Envoy forwards (or redirects to) for `path` after `route`'s rewrite (Envoy's
 * RouteEntryImplBase::currentUrlPathAfterRewriteWithMatchedPath): prefix_rewrite replaces what the match
 * matched (the prefix, path-separated prefix or path); regex_rewrite replaces every match of its RE2 pattern
 * in the path without the query, `\N` standing for group N. No rewrite: the path as it came.
 */
export function forwardedPath(route: Route | undefined, path: string): string {
  const a = route?.action;
  const prefixRewrite = a?.case === 'route' ? a.value.prefixRewrite : a?.case === 'redirect' && a.value.pathRewriteSpecifier.case === 'prefixRewrite' ? a.value.pathRewriteSpecifier.value : '';
  const regexRewrite = a?.case === 'route' ? a.value.regexRewrite : undefined;
  if (prefixRewrite !== '') {
    const p = route?.match?.pathSpecifier;
    if (p?.case !== 'prefix' && p?.case !== 'pathSeparatedPrefix' && p?.case !== 'path') throw new Error(`prefix_rewrite with a ${p?.case ?? 'missing'} match`);
    return prefixRewrite + path.slice(p.value.length);
  }
  if (regexRewrite?.pattern !== undefined) {
    const q = path.indexOf('?');
    const [bare, query] = q < 0 ? [path, ''] : [path.slice(0, q), path.slice(q)];
    const js = regexRewrite.substitution.replaceAll('$', '$$$$').replace(/\\(\d)/g, '$$$1');
    return RE2JS.compile(regexRewrite.pattern.regex).matcher(bare).replaceAll(js) + query;
  }
  return path;
}

/** The status Envoy answers when the cluster a route picked does not exist (RouteAction.cluster_not_found_response_code). */
export function clusterNotFoundStatus(route: Route | undefined): number {
  const code = route?.action.case === 'route' ? route.action.value.clusterNotFoundResponseCode : NotFoundCode.SERVICE_UNAVAILABLE;
  return code === NotFoundCode.INTERNAL_SERVER_ERROR ? 500 : code === NotFoundCode.NOT_FOUND ? 404 : 503;
}
