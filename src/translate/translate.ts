// The translation entry point: pure (MeshSnapshot, Proxy) -> ProxyResources, each list sorted by name, with
// the issues the builders met (listeners that could not be built as configured, credentials that could not be
// served), sorted and without duplicates.
// No I/O, clock, environment or randomness here or below (ARCHITECTURE principle 2).

import { withAccessLogs } from './listener/access-log.js';
import { withTracing } from './telemetry/tracing.js';
import { withHcmMeshOptions } from './listener/hcm-mesh-options.js';
import type { Issue } from '../lib/issue.js';
import type { MeshSnapshot } from '../model/snapshot.js';
import type { Proxy } from '../model/proxy.js';
import type { ProxyResources } from './resources.js';
import { buildProxyContext } from './context.js';
import { buildClusters } from './cluster/build-clusters.js';
import { buildEndpoints } from './endpoint/build-endpoints.js';
import { buildRoutes } from './route/build-routes.js';
import { buildListenersWithIssues } from './listener/build-listeners.js';
import { buildSecretsWithIssues } from './secret/build-secrets.js';

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName<T extends { name: string }>(list: T[]): T[] {
  return list.sort((a, b) => cmp(a.name, b.name));
}

/** Issues sorted by path, message, severity; exact repeats dropped. */
export function sortIssues(issues: readonly Issue[]): Issue[] {
  const seen = new Set<string>();
  const out: Issue[] = [];
  for (const i of issues) {
    const key = `${i.path}\n${i.message}\n${i.severity}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(i);
  }
  return out.sort((a, b) => cmp(a.path, b.path) || cmp(a.message, b.message) || cmp(a.severity, b.severity));
}

export function translate(snapshot: MeshSnapshot, proxy: Proxy): ProxyResources {
  const ctx = buildProxyContext(snapshot, proxy);
  const clusters = byName(buildClusters(ctx));
  const listeners = buildListenersWithIssues(ctx);
  const secrets = buildSecretsWithIssues(ctx, clusters);
  const logged = withAccessLogs(withHcmMeshOptions(listeners.listeners, proxy, snapshot.mesh), snapshot, proxy);
  return {
    listeners: byName(withTracing(logged.listeners, ctx)),
    routes: byName(buildRoutes(ctx)),
    clusters,
    endpoints: buildEndpoints(ctx, clusters).sort((a, b) => cmp(a.clusterName, b.clusterName)),
    secrets: byName(secrets.secrets),
    issues: sortIssues([...listeners.issues, ...secrets.issues, ...logged.issues]),
  };
}
