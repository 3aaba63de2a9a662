// LEAST_REQUEST per source (Envoy LeastRequestLoadBalancer, least_request_lb.cc, and
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/load_balancers):
// - all weights equal: "power of N choices": sample choice_count hosts at random (with replacement) and
//   take the one with the fewest active requests, the first sampled winning ties;
// - weights differ: EDF weighted round robin where a host's weight, recomputed each time it is
//   rescheduled, is weight / (active_requests + 1) ^ active_request_bias (bias 1.0 by default; 0 turns
//   it into plain weighted round robin).

import type { Random } from '../../lib/random.js';
import type { Host } from '../host.js';
import { EdfScheduler } from './edf-scheduler.js';
import { weightsAreEqual } from './round-robin.js';
import { randomIndex } from './types.js';
import type { SourcePolicy } from './zone-aware-lb.js';

export interface LeastRequestState {
  readonly hosts: readonly Host[];
  readonly edf: EdfScheduler<Host> | undefined;
}

export function leastRequestPolicy(
  random: Random,
  activeRequests: (h: Host) => number,
  choiceCount: number,
  activeRequestBias: number,
): SourcePolicy<LeastRequestState> {
  const dynamicWeight = (h: Host): number => {
    if (activeRequestBias === 0) return h.weight;
    const active = activeRequests(h) + 1;
    return activeRequestBias === 1 ? h.weight / active : h.weight / Math.pow(active, activeRequestBias);
  };
  return {
    init(hosts) {
      const n = hosts.length;
      const edf = n > 1 && !weightsAreEqual(hosts) ? EdfScheduler.create(hosts, dynamicWeight, randomIndex(random, n)) : undefined;
      return { hosts, edf };
    },
    pick(s) {
      if (s.edf !== undefined) return s.edf.pickAndAdd(dynamicWeight);
      const n = s.hosts.length;
      if (n === 0) return undefined;
      let best = s.hosts[randomIndex(random, n)] as Host;
      let bestActive = activeRequests(best);
      for (let i = 1; i < choiceCount; i++) {
        const h = s.hosts[randomIndex(random, n)] as Host;
        const a = activeRequests(h);
        if (a < bestActive) {
          best = h;
          bestActive = a;
        }
      }
      return best;
    },
  };
}
