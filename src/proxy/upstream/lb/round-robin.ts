// ROUND_ROBIN per source (Envoy RoundRobinLoadBalancer, an EdfLoadBalancerBase): when all hosts weigh the
// same, a plain cursor starting at a random offset; when weights differ, an EDF schedule with deadlines
// 1/weight, which interleaves smoothly (3:1 gives a a b a a a b a ...). Slow start is not implemented.

import type { Random } from '../../lib/random.js';
import type { Host } from '../host.js';
import { EdfScheduler } from './edf-scheduler.js';
import { randomIndex } from './types.js';
import type { SourcePolicy } from './zone-aware-lb.js';

export interface RoundRobinState {
  readonly hosts: readonly Host[];
  readonly edf: EdfScheduler<Host> | undefined;
  cursor: number;
}

const HOST_WEIGHT = (h: Host): number => h.weight;

/** True when every host has the same weight (Envoy hostWeightsAreEqual): no EDF needed. */
export function weightsAreEqual(hosts: readonly Host[]): boolean {
  const first = hosts[0];
  if (first === undefined) return true;
  for (const h of hosts) if (h.weight !== first.weight) return false;
  return true;
}

export function roundRobinPolicy(random: Random): SourcePolicy<RoundRobinState> {
  return {
    init(hosts) {
      const n = hosts.length;
      const edf = n > 1 && !weightsAreEqual(hosts) ? EdfScheduler.create(hosts, HOST_WEIGHT, randomIndex(random, n)) : undefined;
      return { hosts, edf, cursor: n > 0 ? randomIndex(random, n) : 0 };
    },
    pick(s) {
      if (s.edf !== undefined) return s.edf.pickAndAdd(HOST_WEIGHT);
      const n = s.hosts.length;
      if (n === 0) return undefined;
      const h = s.hosts[s.cursor % n];
      s.cursor = (s.cursor + 1) % n;
      return h;
    },
  };
}
