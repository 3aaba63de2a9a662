// RANDOM per source (Envoy RandomLoadBalancer): a uniformly random host of the source; host weights are
// not used (Envoy's random balancer ignores them too).

import type { Random } from '../../lib/random.js';
import type { Host } from '../host.js';
import { randomIndex } from './types.js';
import type { SourcePolicy } from './zone-aware-lb.js';

export function randomPolicy(random: Random): SourcePolicy<readonly Host[]> {
  return {
    init: (hosts) => hosts,
    pick: (hosts) => (hosts.length === 0 ? undefined : hosts[randomIndex(random, hosts.length)]),
  };
}
