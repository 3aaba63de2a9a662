// The last step of both the HTTP and the TCP path: every cluster the walk chose must be among the resources
// (Envoy answers 503 NC otherwise), unless the caller turned the check off.

import type { ProxyResources } from '../../../src/translate/resources.js';
import { Stop } from './stop.js';
import type { Result } from './types.js';

export function checkClusters(res: ProxyResources, r: Result, required: boolean): void {
  if (!required) return;
  const names = r.weightedClusters?.map((w) => w.name) ?? (r.cluster !== undefined ? [r.cluster] : []);
  const missing = names.filter((n) => !res.clusters.some((c) => c.name === n));
  if (missing.length > 0) throw new Stop('cluster not found', `cluster ${missing.join(', ')} is not among the resources`);
}
