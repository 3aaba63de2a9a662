// Where a session's upstream address travels, as Envoy's session state extensions write and read it:
// - cookie (envoy.http.stateful_session.cookie): base64 of a protobuf `envoy.Cookie` message, field 1 the
//   address (`ip:port`), field 2 `expires` (seconds of the monotonic clock; only with a TTL). A cookie whose
//   value is not such a message is read the old way, as the address itself in base64. An expired cookie
//   names no host. The Set-Cookie carries the TTL as Max-Age, the path, and HttpOnly.
// - header (envoy.http.stateful_session.header): base64 of the address, in the named request and response header.
// Envoy: source/extensions/http/stateful_session/cookie/cookie.{h,cc} (and cookie.proto there),
// header/header.{h,cc}; Base64::decode gives nothing for invalid input.

import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { cookieValue, setCookieValue } from '../../http/cookies.js';
import { headerValue, type HeaderMap } from '../../http/headers.js';
import type { SessionStateConfig } from './config.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Envoy's Base64::decode: '' for input that is not base64 (length a multiple of 4 once padded, the alphabet only). */
function decodeBase64(v: string): string {
  if (v.length % 4 === 1 || !BASE64.test(v)) return '';
  return Buffer.from(v, 'base64').toString('latin1');
}

/** The CLOCK_MONOTONIC seconds Envoy's steady clock counts (libuv's hrtime reads the same clock). */
export function monotonicSeconds(): number {
  return Number(process.hrtime.bigint() / 1_000_000_000n);
}

/** The `envoy.Cookie` message in `bytes`, or undefined when it does not parse as one. */
function parseCookieMessage(bytes: Uint8Array): { address: string; expires: bigint } | undefined {
  try {
    const r = new BinaryReader(bytes);
    let address = '';
    let expires = 0n;
    while (r.pos < r.len) {
      const [field, wire] = r.tag();
      if (field === 1 && wire === WireType.LengthDelimited) address = r.string();
      else if (field === 2 && wire === WireType.Varint) expires = BigInt(r.uint64());
      else r.skip(wire, field);
    }
    return { address, expires };
  } catch {
    return undefined;
  }
}

/** The address a cookie value names; undefined when none (no cookie, an empty or expired one). */
export function addressFromCookie(value: string | undefined, nowSeconds: number): string | undefined {
  if (value === undefined || value === '') return undefined;
  const decoded = decodeBase64(value);
  const m = parseCookieMessage(Buffer.from(decoded, 'latin1'));
  if (m !== undefined) {
    if (m.address === '') return undefined;
    if (m.expires !== 0n && BigInt(nowSeconds) > m.expires) return undefined;
    return m.address;
  }
  return decoded === '' ? undefined : decoded;
}

/** The cookie value naming `address`: an `envoy.Cookie` message, with an expiry `ttlSeconds` from now when it has a TTL. */
export function cookieForAddress(address: string, ttlSeconds: number, nowSeconds: number): string {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).string(address);
  if (ttlSeconds !== 0) w.tag(2, WireType.Varint).uint64(BigInt(nowSeconds + ttlSeconds));
  return Buffer.from(w.finish()).toString('base64');
}

/** The upstream address the request's session names (SessionStateFactory::create and upstreamAddress). */
export function sessionAddress(state: SessionStateConfig, headers: HeaderMap, nowSeconds: number): string | undefined {
  if (state.kind === 'cookie') return addressFromCookie(cookieValue(headers, state.name), nowSeconds);
  const v = headerValue(headers, state.name);
  if (v === undefined) return undefined;
  const address = decodeBase64(v);
  return address === '' ? undefined : address;
}

/**
 * SessionState::onUpdate: when the response came from a host other than the one the request named, the
 * response tells the client the new one (a Set-Cookie added to the upstream's, or the header set).
 */
export function writeSession(state: SessionStateConfig, requested: string | undefined, host: string, headers: HeaderMap, nowSeconds: number): void {
  if (requested === host) return;
  if (state.kind === 'header') {
    headers[state.name] = Buffer.from(host, 'latin1').toString('base64');
    return;
  }
  const cookie = setCookieValue(state.name, cookieForAddress(host, state.ttlSeconds, nowSeconds), state.path, state.ttlSeconds, true);
  const had = headers['set-cookie'];
  headers['set-cookie'] = had === undefined ? cookie : [...(typeof had === 'string' ? [had] : had), cookie];
}
