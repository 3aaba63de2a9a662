// Request hashes for hash-policy routes, computed exactly as Envoy's HashPolicyImpl
// (source/common/http/hash_policy.cc) so our proxies and Envoys send a key to the same host:
// - header: all values of the header, sorted, hashed in chain (xxHash64 of each with the previous
//   result as seed, starting at 0: HashUtil::xxHash64(Span<string_view>) in source/common/common/hash.cc);
// - cookie, query parameter, source IP: xxHash64 (seed 0) of the value;
// - filter state: the object's own hash, passed in as is;
// - several policies: each present hash is folded in with `rotl64(acc, 1) ^ next` ("rotating the old
//   value prevents duplicate hash rules from cancelling each other out"); an input without a value
//   contributes nothing, and a terminal input that produced a hash stops the walk.
// Producing the inputs (reading the header, parsing the query, setting a missing cookie) is the
// router's job; these helpers only hash them.

import { xxHash64 } from './xxhash64.js';

const MASK64 = (1n << 64n) - 1n;

export type HashInput =
  | { readonly kind: 'header'; readonly values: readonly string[]; readonly terminal?: boolean }
  | { readonly kind: 'cookie'; readonly value: string | undefined; readonly terminal?: boolean }
  | { readonly kind: 'source-ip'; readonly ip: string | undefined; readonly terminal?: boolean }
  | { readonly kind: 'query-parameter'; readonly value: string | undefined; readonly terminal?: boolean }
  | { readonly kind: 'filter-state'; readonly hash: bigint | undefined; readonly terminal?: boolean };

/** xxHash64 (seed 0) of a string's UTF-8 bytes. */
export function hashString(value: string): bigint {
  return xxHash64(value);
}

/** The hash of a header's values: sorted, then chained through the xxHash64 seed. Undefined when there are none. */
export function hashHeaderValues(values: readonly string[]): bigint | undefined {
  if (values.length === 0) return undefined;
  const sorted = values.length === 1 ? values : [...values].sort();
  let seed = 0n;
  for (const v of sorted) seed = xxHash64(v, seed);
  return seed;
}

/** Folds `next` into `acc` as Envoy combines hash policies: rotl64(acc, 1) ^ next (acc undefined → next). */
export function combineHashes(acc: bigint | undefined, next: bigint): bigint {
  if (acc === undefined) return next & MASK64;
  const rotated = ((acc << 1n) | (acc >> 63n)) & MASK64;
  return (rotated ^ next) & MASK64;
}

function inputHash(input: HashInput): bigint | undefined {
  switch (input.kind) {
    case 'header':
      return hashHeaderValues(input.values);
    case 'cookie':
    case 'query-parameter':
      return input.value === undefined || (input.kind === 'cookie' && input.value === '') ? undefined : xxHash64(input.value);
    case 'source-ip':
      return input.ip === undefined || input.ip === '' ? undefined : xxHash64(input.ip);
    case 'filter-state':
      return input.hash;
  }
}

/** The request hash for a route's hash policies, in order; undefined when no input produced a hash. */
export function hashKey(inputs: readonly HashInput[]): bigint | undefined {
  let acc: bigint | undefined;
  for (const input of inputs) {
    const h = inputHash(input);
    if (h !== undefined) acc = combineHashes(acc, h);
    if (input.terminal === true && acc !== undefined) break;
  }
  return acc;
}
