// MurmurHash2, 64-bit, as libstdc++'s std::hash<std::string> computes it (_Hash_bytes with seed
// 0xc70f6907): the hash a RING_HASH cluster uses for its ring points when hash_function is MURMUR_HASH_2
// (Envoy source/common/common/hash.cc MurmurHash::murmurHash2). Only ring building uses it, never the
// request path, so plain BigInt arithmetic is fine here.

const encoder = new TextEncoder();

const MASK = (1n << 64n) - 1n;
const MUL = 0xc6a4a7935bd1e995n;

/** std::hash<std::string>'s seed in libstdc++ (Envoy MurmurHash::STD_HASH_SEED). */
export const STD_HASH_SEED = 0xc70f6907n;

function shiftMix(v: bigint): bigint {
  return v ^ (v >> 47n);
}

/** MurmurHash2-64 of the UTF-8 bytes of `input`, as an unsigned 64-bit BigInt. */
export function murmurHash2(input: string, seed: bigint = STD_HASH_SEED): bigint {
  const b = encoder.encode(input);
  const len = b.length;
  const aligned = len & ~7;
  let hash = (seed ^ ((BigInt(len) * MUL) & MASK)) & MASK;
  for (let p = 0; p < aligned; p += 8) {
    let data = 0n;
    for (let k = 7; k >= 0; k--) data = (data << 8n) | BigInt(b[p + k] ?? 0);
    data = (shiftMix((data * MUL) & MASK) * MUL) & MASK;
    hash ^= data;
    hash = (hash * MUL) & MASK;
  }
  if ((len & 7) !== 0) {
    let data = 0n;
    for (let k = len - 1; k >= aligned; k--) data = (data << 8n) | BigInt(b[k] ?? 0);
    hash ^= data;
    hash = (hash * MUL) & MASK;
  }
  hash = (shiftMix(hash) * MUL) & MASK;
  return shiftMix(hash);
}
