// Serialization of header maps and metadata in the proxy-wasm pair format (spec "Serialization",
// little-endian): u32 count, count x (u32 key_len, u32 value_len), then count x (key, 0x00, value, 0x00).
// Used for header maps, http_call headers/trailers, local-reply headers and gRPC metadata.
// Contracts: an empty map serializes to zero bytes (the Rust SDK traps on the spec's alternative single
// 0x00 byte); parsing enforces cpp-host's limits (1 MiB, 1024 pairs, include/proxy-wasm/limits.h) and the
// terminating NULs, and answers undefined for anything malformed instead of throwing.

import { PAIRS_MAX_BYTES, PAIRS_MAX_COUNT } from './abi.js';
import { decodeUtf8, encodeUtf8 } from './guest-memory.js';

/** One header or metadata entry: the name as a string, the value as raw bytes. */
export type HeaderPair = readonly [name: string, value: Uint8Array];
export type HeaderPairs = readonly HeaderPair[];

const EMPTY = new Uint8Array(0);

/** Serializes pairs; an empty list yields an empty array. */
export function serializePairs(pairs: HeaderPairs): Uint8Array {
  if (pairs.length === 0) return EMPTY;
  const names: Uint8Array[] = new Array<Uint8Array>(pairs.length);
  let size = 4 + pairs.length * 8;
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i] as HeaderPair;
    const name = encodeUtf8(pair[0]);
    names[i] = name;
    size += name.byteLength + 1 + pair[1].byteLength + 1;
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, pairs.length, true);
  let lenPos = 4;
  let dataPos = 4 + pairs.length * 8;
  for (let i = 0; i < pairs.length; i++) {
    const name = names[i] as Uint8Array;
    const value = (pairs[i] as HeaderPair)[1];
    dv.setUint32(lenPos, name.byteLength, true);
    dv.setUint32(lenPos + 4, value.byteLength, true);
    lenPos += 8;
    out.set(name, dataPos);
    dataPos += name.byteLength + 1; // NUL already zero
    out.set(value, dataPos);
    dataPos += value.byteLength + 1;
  }
  return out;
}

/** Size in bytes serializePairs would produce (proxy_get_header_map_size). */
export function serializedPairsSize(pairs: HeaderPairs): number {
  if (pairs.length === 0) return 0;
  let size = 4 + pairs.length * 8;
  for (const [name, value] of pairs) size += Buffer.byteLength(name, 'utf8') + 1 + value.byteLength + 1;
  return size;
}

/**
 * Parses serialized pairs. Zero bytes (and a lone 0x00, which the spec allows) mean an empty map.
 * Undefined when the data is truncated, lacks a NUL terminator, or exceeds the limits.
 */
export function parsePairs(data: Uint8Array): HeaderPair[] | undefined {
  if (data.byteLength === 0 || (data.byteLength === 1 && data[0] === 0)) return [];
  if (data.byteLength < 4 || data.byteLength > PAIRS_MAX_BYTES) return undefined;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = dv.getUint32(0, true);
  if (count > PAIRS_MAX_COUNT) return undefined;
  let lenPos = 4;
  let dataPos = 4 + count * 8;
  if (dataPos > data.byteLength) return undefined;
  const out: HeaderPair[] = [];
  for (let i = 0; i < count; i++) {
    const keyLen = dv.getUint32(lenPos, true);
    const valueLen = dv.getUint32(lenPos + 4, true);
    lenPos += 8;
    if (dataPos + keyLen + 1 + valueLen + 1 > data.byteLength) return undefined;
    const key = data.subarray(dataPos, dataPos + keyLen);
    dataPos += keyLen;
    if (data[dataPos] !== 0) return undefined;
    dataPos += 1;
    const value = data.slice(dataPos, dataPos + valueLen);
    dataPos += valueLen;
    if (data[dataPos] !== 0) return undefined;
    dataPos += 1;
    out.push([decodeUtf8(key), value]);
  }
  return out;
}
