// How attribute values cross the proxy-wasm ABI in proxy_get_property, as Envoy's Wasm host encodes them
// (source/extensions/common/wasm/context.cc, serializeValue): strings as their bytes, integers as 8-byte
// little-endian int64, booleans as one byte. Shared by the HTTP stream and TCP connection attributes.

const enc = new TextEncoder();

/** A string attribute; undefined stays undefined (NOT_FOUND). */
export function strValue(s: string | undefined): Uint8Array | undefined {
  return s === undefined ? undefined : enc.encode(s);
}

export function int64Value(n: number | bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(n), true);
  return b;
}

export function boolValue(v: boolean): Uint8Array {
  return Uint8Array.of(v ? 1 : 0);
}

/** `address:port` as Envoy's `source.address` / `destination.address`. */
export { hostPort } from '../../lib/address.js';
