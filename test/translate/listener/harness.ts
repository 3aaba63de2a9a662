// Test support for listener translation: build one proxy's listeners from inline YAML, as config_dump JSON
// for goldens and as ProxyResources (listeners only, or with routes/clusters a test supplies) for simulation.

import type { JsonValue } from '@bufbuild/protobuf';
import type { Issue } from '../../../src/lib/issue.js';
import type { ConfigSnapshotOptions } from '../../../src/model/build-snapshot.js';
import type { Proxy } from '../../../src/model/proxy.js';
import { buildProxyContext } from '../../../src/translate/context.js';
import { buildListenersWithIssues } from '../../../src/translate/listener/build-listeners.js';
import type { ProxyResources } from '../../../src/translate/resources.js';
import { toDumpJson } from '../../../src/xds/codec.js';
import { ListenerSchema, type Listener } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../../support/mesh.js';

export interface Built {
  readonly listeners: readonly Listener[];
  readonly issues: readonly Issue[];
  /** Listeners only; routes and clusters empty (simulate with requireClusters: false). */
  readonly resources: ProxyResources;
  /** config_dump JSON of the listeners, sorted by name, with the issues: the golden value. */
  readonly dump: { listeners: JsonValue[]; issues: readonly Issue[] };
}

export function buildFor(yaml: string, proxy: Proxy | TestProxyOptions, opts: ConfigSnapshotOptions = {}): Built {
  const { snapshot } = meshFromYaml(yaml, opts);
  const p = 'id' in proxy ? proxy : testProxy(proxy);
  const { listeners, issues } = buildListenersWithIssues(buildProxyContext(snapshot, p));
  listeners.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    listeners,
    issues,
    resources: { listeners, routes: [], clusters: [], endpoints: [], secrets: [], issues: [] },
    dump: { listeners: listeners.map((l) => toDumpJson(ListenerSchema, l)), issues },
  };
}

export function listener(b: Built, name: string): Listener {
  const l = b.listeners.find((x) => x.name === name);
  if (l === undefined) throw new Error(`no listener ${name}; have ${b.listeners.map((x) => x.name).join(', ')}`);
  return l;
}

/** A Kubernetes Service (in `default` unless `ns/name`) with optional cluster IP. */
export function k8sService(name: string, ports: readonly { port: number; name: string; targetPort?: number | string }[], opts: { clusterIP?: string; selector?: Record<string, string>; ns?: string } = {}): string {
  const sel = opts.selector ?? { app: name };
  return [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${opts.ns ?? 'default'}`,
    'spec:',
    ...(opts.clusterIP !== undefined ? [`  clusterIP: ${opts.clusterIP}`] : []),
    `  selector: ${JSON.stringify(sel)}`,
    '  ports:',
    ...ports.map((p) => `  - {port: ${p.port}, name: ${p.name}${p.targetPort !== undefined ? `, targetPort: ${JSON.stringify(p.targetPort)}` : ''}}`),
    '---',
  ].join('\n');
}

/** A Telemetry document (`spec` given as indented YAML lines), for the telemetry, access log and tracing suites. */
export function telemetryYaml(ns: string, name: string, spec: string): string {
  return `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}
---
`;
}

/** reviews (HTTP 9080, TCP 5432) and ratings (HTTP 9080, Redis 6379): HTTP and TCP listeners on both sides. */
export const REVIEWS_AND_RATINGS = [
  k8sService('reviews', [
    { port: 9080, name: 'http' },
    { port: 5432, name: 'tcp' },
  ]),
  k8sService('ratings', [
    { port: 9080, name: 'http' },
    { port: 6379, name: 'tcp-redis' },
  ], { clusterIP: '10.96.0.20' }),
].join('\n');
