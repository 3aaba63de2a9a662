// The translation entry point: pure (MeshSnapshot, Proxy) -> ProxyResources, each list sorted by name.
// No I/O, clock, environment or randomness here or below (ARCHITECTURE principle 2).

import type { MeshSnapshot } from '../model/snapshot.js';
import type { Proxy } from '../model/proxy.js';
import type { ProxyResources } from './resources.js';
import { buildProxyContext } from './context.js';
import { buildClusters } from './cluster/build-clusters.js';
import { buildEndpoints } from './endpoint/build-endpoints.js';
import { buildRoutes } from './route/build-routes.js';
import { buildListeners } from './listener/build-listeners.js';

function byName<T extends { name: string }>(list: T[]): T[] {
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function translate(snapshot: MeshSnapshot, proxy: Proxy): ProxyResources {
  const ctx = buildProxyContext(snapshot, proxy);
  const clusters = byName(buildClusters(ctx));
  return {
    listeners: byName(buildListeners(ctx)),
    routes: byName(buildRoutes(ctx)),
    clusters,
    endpoints: buildEndpoints(ctx, clusters).sort((a, b) => (a.clusterName < b.clusterName ? -1 : a.clusterName > b.clusterName ? 1 : 0)),
    secrets: [],
  };
}
