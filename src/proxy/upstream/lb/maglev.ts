// Maglev consistent hashing as Envoy builds it (source/extensions/load_balancing_policies/maglev/
// maglev_lb.cc, after the Maglev paper §3.4, pseudocode listing 1): hosts sorted by hash key, each with
// offset = xxHash64(key, 0) mod M and skip = xxHash64(key, 1) mod (M − 1) + 1; rounds fill the table
// (size M, prime, 65537 by default) along each host's permutation offset + skip × j, a host of normalized
// weight w taking a slot in round r only while r × w ≥ its running target (target += max weight per slot
// taken), so slots are proportional to weight. A request goes to table[hash mod M]; a retry attempt n
// first flips the hash with 2^64 − n, as Envoy does, to land somewhere else.

import type { Host } from '../host.js';
import { EMPTY_TABLE, hostHashKey, type HashTable, type NormalizedWeights } from './hash-table.js';
import { xxHash64 } from './xxhash64.js';

const MASK64 = (1n << 64n) - 1n;

export class MaglevTable implements HashTable {
  private readonly sizeBig: bigint;

  private constructor(
    private readonly table: Int32Array,
    private readonly hosts: readonly Host[],
  ) {
    this.sizeBig = BigInt(table.length);
  }

  static build(weights: NormalizedWeights, tableSize: number, useHostnameForHashing: boolean): HashTable {
    if (weights.hosts.length === 0) return EMPTY_TABLE;
    const M = tableSize;
    const mBig = BigInt(M);
    const entries = weights.hosts
      .map((w, i) => ({ ...w, key: hostHashKey(w.host, useHostnameForHashing), i }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i))
      .map((e) => ({
        host: e.host,
        weight: e.weight,
        offset: Number(xxHash64(e.key, 0n) % mBig),
        skip: Number(xxHash64(e.key, 1n) % (mBig - 1n)) + 1,
        target: 0,
        next: 0,
      }));
    const table = new Int32Array(M).fill(-1);
    let filled = 0;
    for (let round = 1; filled < M; round++) {
      for (let i = 0; i < entries.length && filled < M; i++) {
        const e = entries[i] as (typeof entries)[number];
        if (round * e.weight < e.target) continue;
        e.target += weights.max;
        let c = (e.offset + e.skip * e.next) % M;
        while ((table[c] as number) !== -1) {
          e.next++;
          c = (e.offset + e.skip * e.next) % M;
        }
        table[c] = i;
        e.next++;
        filled++;
      }
    }
    return new MaglevTable(table, entries.map((e) => e.host));
  }

  /** How many table slots each host holds, by host key (for stats and tests). */
  slotsPerHost(): Map<string, number> {
    const out = new Map<string, number>();
    for (const idx of this.table) {
      const key = (this.hosts[idx] as Host).key;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
    return out;
  }

  choose(hash: bigint, attempt: number): Host | undefined {
    let h = hash;
    if (attempt > 0) h = (h ^ ((1n << 64n) - BigInt(attempt))) & MASK64;
    const idx = this.table[Number(h % this.sizeBig)] as number;
    return this.hosts[idx];
  }
}
