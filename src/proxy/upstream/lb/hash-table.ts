// What ring hash and Maglev share: hosts with normalized weights in, a table that maps a 64-bit request
// hash (and a retry attempt number) to a host out. Weights are normalized as Envoy's
// ThreadAwareLoadBalancerBase does (thread_aware_lb_impl.cc normalizeWeights): each host's weight over the
// sum of weights, and with locality-weighted balancing each locality's share is its raw locality weight
// over the sum of locality weights (localities of weight 0 are left out).

import type { Host } from '../host.js';

export interface WeightedHost {
  readonly host: Host;
  /** Normalized: the weights of one table sum to 1. */
  readonly weight: number;
}

export interface NormalizedWeights {
  readonly hosts: readonly WeightedHost[];
  readonly min: number;
  readonly max: number;
}

export interface HashTable {
  /** The host for `hash`; `attempt` > 0 asks for an alternative (retry host predicates). */
  choose(hash: bigint, attempt: number): Host | undefined;
}

export const EMPTY_TABLE: HashTable = { choose: () => undefined };

/** The string a host is hashed by: its address (`ip:port`) or, with use_hostname_for_hashing, its hostname. */
export function hostHashKey(host: Host, useHostname: boolean): string {
  return useHostname && host.hostname !== '' ? host.hostname : host.key;
}

function pushHosts(out: WeightedHost[], hosts: readonly Host[], share: number, acc: { min: number; max: number }): void {
  let sum = 0;
  for (const h of hosts) sum += h.weight;
  for (const h of hosts) {
    const weight = (h.weight * share) / sum;
    out.push({ host: h, weight });
    acc.min = Math.min(acc.min, weight);
    acc.max = Math.max(acc.max, weight);
  }
}

/** Normalizes a flat host list, or per locality when `byLocality` (with their weights) is given. */
export function normalizeWeights(
  hosts: readonly Host[],
  byLocality?: { readonly hosts: readonly (readonly Host[])[]; readonly weights: readonly number[] },
): NormalizedWeights {
  const out: WeightedHost[] = [];
  const acc = { min: 1, max: 0 };
  if (byLocality === undefined || byLocality.weights.length === 0) {
    pushHosts(out, hosts, 1, acc);
  } else {
    let sum = 0;
    for (const w of byLocality.weights) sum += w;
    if (sum > 0) {
      byLocality.weights.forEach((w, i) => {
        if (w !== 0) pushHosts(out, byLocality.hosts[i] ?? [], w / sum, acc);
      });
    }
  }
  return { hosts: out, min: acc.min, max: acc.max };
}
