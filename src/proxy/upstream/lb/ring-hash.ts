// The ketama ring of Envoy's RingHashLoadBalancer (source/extensions/load_balancing_policies/ring_hash/
// ring_hash_lb.cc): every host gets ring points hashed from "<address>:<port>_<i>" (xxHash64 seed 0, or
// std::hash's MurmurHash2), as many as its normalized weight × the ring size, where the size is scaled so
// the lightest host gets a whole number of points: min(ceil(min_weight × minimum_ring_size) / min_weight,
// maximum_ring_size). Running sums carry fractional points from host to host so the ring is stable.
// A request hash goes to the first point at or after it, wrapping to the start; a retry attempt n moves
// n points further. Points are kept as (hi, lo) uint32 pairs so a lookup compares numbers, not BigInts.

import type { Host } from '../host.js';
import { EMPTY_TABLE, hostHashKey, type HashTable, type NormalizedWeights } from './hash-table.js';

export interface RingOptions {
  readonly minRingSize: number;
  readonly maxRingSize: number;
  readonly hash: (key: string) => bigint;
  readonly useHostnameForHashing: boolean;
}

export class RingHashTable implements HashTable {
  private constructor(
    private readonly hi: Uint32Array,
    private readonly lo: Uint32Array,
    private readonly hosts: readonly Host[],
  ) {}

  static build(weights: NormalizedWeights, opts: RingOptions): HashTable {
    if (weights.hosts.length === 0) return EMPTY_TABLE;
    const scale = Math.min(Math.ceil(weights.min * opts.minRingSize) / weights.min, opts.maxRingSize);
    const hashes: bigint[] = [];
    const owners: Host[] = [];
    let current = 0;
    let target = 0;
    for (const { host, weight } of weights.hosts) {
      const prefix = `${hostHashKey(host, opts.useHostnameForHashing)}_`;
      target += scale * weight;
      let i = 0;
      while (current < target) {
        hashes.push(opts.hash(prefix + i));
        owners.push(host);
        i++;
        current++;
      }
    }
    const order = hashes.map((_, i) => i);
    order.sort((a, b) => {
      const x = hashes[a] as bigint, y = hashes[b] as bigint;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
    const n = order.length;
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    const hosts: Host[] = new Array<Host>(n);
    for (let k = 0; k < n; k++) {
      const idx = order[k] as number;
      const h = hashes[idx] as bigint;
      hi[k] = Number(h >> 32n);
      lo[k] = Number(h & 0xffffffffn);
      hosts[k] = owners[idx] as Host;
    }
    return new RingHashTable(hi, lo, hosts);
  }

  get size(): number {
    return this.hosts.length;
  }

  choose(hash: bigint, attempt: number): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    const qh = Number(hash >> 32n);
    const ql = Number(hash & 0xffffffffn);
    let low = 0;
    let high = n;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const mh = this.hi[mid] as number;
      if (mh < qh || (mh === qh && (this.lo[mid] as number) < ql)) low = mid + 1;
      else high = mid;
    }
    let idx = low === n ? 0 : low;
    if (attempt > 0) idx = (idx + attempt) % n;
    return this.hosts[idx];
  }
}
