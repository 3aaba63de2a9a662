// xxHash64 (https://github.com/Cyan4973/xxHash, XXH64), the hash Envoy uses for request hash policies,
// ring-hash ring points and Maglev permutations (source/common/common/hash.h HashUtil::xxHash64). It must
// match Envoy bit for bit so that a mesh of our proxies and Envoys map the same key to the same host.
//
// 64-bit arithmetic is done on (hi, lo) pairs of uint32 held in module registers, so a hash allocates
// nothing but the one BigInt it returns (BigInt arithmetic allocates on every operation). Strings are
// hashed as their UTF-8 bytes, as Envoy hashes the bytes of a string_view.

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

// Accumulator registers: (ah, al) is the value being worked on, (th, tl) a temporary.
let ah = 0;
let al = 0;

// Primes, as (hi, lo).
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

/** (ah, al) = (ah, al) * (bh, bl) mod 2^64. */
function mul(bh: number, bl: number): void {
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const mid = a0 * b1 + a1 * b0; // < 2^33, exact
  const low = a0 * b0 + (mid % 65536) * 65536; // < 2^33
  const lo = low >>> 0;
  const carry = Math.floor(low / 4294967296);
  const hi = a1 * b1 + Math.floor(mid / 65536) + carry + Math.imul(ah, bl) + Math.imul(al, bh);
  ah = hi >>> 0;
  al = lo;
}

/** (ah, al) += (bh, bl) mod 2^64. */
function add(bh: number, bl: number): void {
  const lo = al + bl;
  ah = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  al = lo >>> 0;
}

/** (ah, al) = rotl64((ah, al), r) for 0 < r < 64. */
function rotl(r: number): void {
  if (r === 32) {
    const t = ah;
    ah = al;
    al = t;
    return;
  }
  let h = ah, l = al;
  if (r > 32) {
    const t = h;
    h = l;
    l = t;
    r -= 32;
  }
  ah = ((h << r) | (l >>> (32 - r))) >>> 0;
  al = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** (ah, al) ^= (ah, al) >>> s for 0 < s < 64. */
function xorShiftRight(s: number): void {
  if (s >= 32) {
    al = (al ^ (ah >>> (s - 32))) >>> 0;
  } else {
    al = (al ^ ((al >>> s) | (ah << (32 - s)))) >>> 0;
    ah = (ah ^ (ah >>> s)) >>> 0;
  }
}

function readLaneLo(b: Uint8Array, i: number): number {
  return ((b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24)) >>> 0;
}

// The four stripe accumulators while hashing inputs of 32 bytes or more.
const vh = new Uint32Array(4);
const vl = new Uint32Array(4);

/** XXH64 round: acc = rotl(acc + lane * P2, 31) * P1, on stripe accumulator `k`. */
function roundLane(k: number, lh: number, ll: number): void {
  const sh = ah, sl = al;
  ah = lh;
  al = ll;
  mul(P2H, P2L);
  add(vh[k] ?? 0, vl[k] ?? 0);
  rotl(31);
  mul(P1H, P1L);
  vh[k] = ah;
  vl[k] = al;
  ah = sh;
  al = sl;
}

/** h = (h ^ round(0, v_k)) * P1 + P4. */
function mergeLane(k: number): void {
  const sh = ah, sl = al;
  ah = vh[k] ?? 0;
  al = vl[k] ?? 0;
  mul(P2H, P2L);
  rotl(31);
  mul(P1H, P1L);
  const rh = ah, rl = al;
  ah = (sh ^ rh) >>> 0;
  al = (sl ^ rl) >>> 0;
  mul(P1H, P1L);
  add(P4H, P4L);
}

function hashBytes(b: Uint8Array, len: number, seedHi: number, seedLo: number): bigint {
  let i = 0;
  if (len >= 32) {
    // v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1
    ah = seedHi; al = seedLo; add(P1H, P1L); add(P2H, P2L); vh[0] = ah; vl[0] = al;
    ah = seedHi; al = seedLo; add(P2H, P2L); vh[1] = ah; vl[1] = al;
    vh[2] = seedHi; vl[2] = seedLo;
    // -P1 mod 2^64 = ~P1 + 1
    ah = seedHi; al = seedLo; add(~P1H >>> 0, ~P1L >>> 0); add(0, 1); vh[3] = ah; vl[3] = al;
    const limit = len - 32;
    while (i <= limit) {
      for (let k = 0; k < 4; k++) {
        roundLane(k, readLaneLo(b, i + 4), readLaneLo(b, i));
        i += 8;
      }
    }
    ah = vh[0] ?? 0; al = vl[0] ?? 0; rotl(1);
    let hh = ah, hl = al;
    ah = vh[1] ?? 0; al = vl[1] ?? 0; rotl(7);
    { const h2 = ah, l2 = al; ah = hh; al = hl; add(h2, l2); hh = ah; hl = al; }
    ah = vh[2] ?? 0; al = vl[2] ?? 0; rotl(12);
    { const h2 = ah, l2 = al; ah = hh; al = hl; add(h2, l2); hh = ah; hl = al; }
    ah = vh[3] ?? 0; al = vl[3] ?? 0; rotl(18);
    { const h2 = ah, l2 = al; ah = hh; al = hl; add(h2, l2); }
    for (let k = 0; k < 4; k++) mergeLane(k);
  } else {
    ah = seedHi; al = seedLo;
    add(P5H, P5L);
  }
  add(Math.floor(len / 4294967296) >>> 0, len >>> 0);

  while (i + 8 <= len) {
    // k1 = round(0, lane); h ^= k1; h = rotl(h, 27) * P1 + P4
    const sh = ah, sl = al;
    ah = readLaneLo(b, i + 4); al = readLaneLo(b, i);
    mul(P2H, P2L); rotl(31); mul(P1H, P1L);
    ah = (ah ^ sh) >>> 0; al = (al ^ sl) >>> 0;
    rotl(27); mul(P1H, P1L); add(P4H, P4L);
    i += 8;
  }
  if (i + 4 <= len) {
    // h ^= lane32 * P1; h = rotl(h, 23) * P2 + P3
    const sh = ah, sl = al;
    ah = 0; al = readLaneLo(b, i);
    mul(P1H, P1L);
    ah = (ah ^ sh) >>> 0; al = (al ^ sl) >>> 0;
    rotl(23); mul(P2H, P2L); add(P3H, P3L);
    i += 4;
  }
  while (i < len) {
    // h ^= byte * P5; h = rotl(h, 11) * P1
    const sh = ah, sl = al;
    ah = 0; al = b[i] ?? 0;
    mul(P5H, P5L);
    ah = (ah ^ sh) >>> 0; al = (al ^ sl) >>> 0;
    rotl(11); mul(P1H, P1L);
    i++;
  }
  xorShiftRight(33); mul(P2H, P2L);
  xorShiftRight(29); mul(P3H, P3L);
  xorShiftRight(32);
  return (BigInt(ah) << 32n) | BigInt(al);
}

/** UTF-8 encodes `s` into the shared scratch buffer; returns the byte length. */
export function encodeUtf8(s: string): number {
  if (s.length * 3 > scratch.length) scratch = new Uint8Array(s.length * 3);
  return encoder.encodeInto(s, scratch).written;
}

const MASK64 = (1n << 64n) - 1n;

/** XXH64 of `input` (a string is hashed as its UTF-8 bytes) with `seed` (default 0), as an unsigned 64-bit BigInt. */
export function xxHash64(input: string | Uint8Array, seed: bigint | number = 0n): bigint {
  const s = typeof seed === 'bigint' ? seed & MASK64 : BigInt.asUintN(64, BigInt(seed));
  const seedHi = Number(s >> 32n);
  const seedLo = Number(s & 0xffffffffn);
  if (typeof input === 'string') {
    const len = encodeUtf8(input);
    return hashBytes(scratch, len, seedHi, seedLo);
  }
  return hashBytes(input, input.length, seedHi, seedLo);
}
