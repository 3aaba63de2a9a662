// Parsing one compact JWT the way jwt_verify_lib's Jwt::parseFromString does, so a malformed token fails
// with the same status (and so the same 401 body) as in Envoy: exactly three non-empty '.'-separated
// sections, base64url header with a string `alg` from the implemented set and an optional string `kid`,
// a JSON-object payload whose registered claims have the right types, a base64url signature. Time
// constraints use jwt_verify_lib's Jwt::verifyTimeConstraint (clock skew on both ends; a missing exp
// never expires). Signatures are checked elsewhere (jwks.ts).

import { JwtStatus } from './status.js';

export interface ParsedJwt {
  readonly alg: string;
  /** '' when the header has none. */
  readonly kid: string;
  /** '' when the payload has none. */
  readonly iss: string;
  readonly audiences: readonly string[];
  /** Seconds since the epoch; 0 when absent. */
  readonly nbf: number;
  readonly exp: number;
  readonly headerB64: string;
  readonly payloadB64: string;
  readonly signatureB64: string;
  readonly signatureLength: number;
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** jwt.cc isImplemented. */
const IMPLEMENTED_ALGS: ReadonlySet<string> = new Set(['ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA']);

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeB64url(s: string): Buffer | undefined {
  return BASE64URL.test(s) ? Buffer.from(s, 'base64url') : undefined;
}

function parseObject(b: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(b.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

type Field<T> = { readonly kind: 'missing' } | { readonly kind: 'wrong' } | { readonly kind: 'ok'; readonly value: T };
const MISSING = { kind: 'missing' } as const;
const WRONG = { kind: 'wrong' } as const;

function stringField(o: Readonly<Record<string, unknown>>, k: string): Field<string> {
  const v = o[k];
  if (v === undefined) return MISSING;
  return typeof v === 'string' ? { kind: 'ok', value: v } : WRONG;
}

/** StructUtils::GetUInt64: a JSON number in [0, 2^64), truncated; 'range' when outside. */
function uintField(o: Readonly<Record<string, unknown>>, k: string): Field<number> | { readonly kind: 'range' } {
  const v = o[k];
  if (v === undefined) return MISSING;
  if (typeof v !== 'number') return WRONG;
  if (v < 0 || v >= 18446744073709551615) return { kind: 'range' };
  return { kind: 'ok', value: Math.trunc(v) };
}

export function parseJwt(token: string): ParsedJwt | JwtStatus {
  const parts = token.split('.').filter((p) => p !== '');
  if (parts.length !== 3) return JwtStatus.JwtBadFormat;
  const [headerB64, payloadB64, signatureB64] = parts as [string, string, string];
  const hb = decodeB64url(headerB64);
  if (hb === undefined) return JwtStatus.JwtHeaderParseErrorBadBase64;
  const header = parseObject(hb);
  if (header === undefined) return JwtStatus.JwtHeaderParseErrorBadJson;
  const alg = stringField(header, 'alg');
  if (alg.kind !== 'ok') return JwtStatus.JwtHeaderBadAlg;
  if (!IMPLEMENTED_ALGS.has(alg.value)) return JwtStatus.JwtHeaderNotImplementedAlg;
  const kid = stringField(header, 'kid');
  if (kid.kind === 'wrong') return JwtStatus.JwtHeaderBadKid;
  const pb = decodeB64url(payloadB64);
  if (pb === undefined) return JwtStatus.JwtPayloadParseErrorBadBase64;
  const payload = parseObject(pb);
  if (payload === undefined) return JwtStatus.JwtPayloadParseErrorBadJson;
  const iss = stringField(payload, 'iss');
  if (iss.kind === 'wrong') return JwtStatus.JwtPayloadParseErrorIssNotString;
  if (stringField(payload, 'sub').kind === 'wrong') return JwtStatus.JwtPayloadParseErrorSubNotString;
  const iat = uintField(payload, 'iat');
  if (iat.kind === 'wrong') return JwtStatus.JwtPayloadParseErrorIatNotInteger;
  if (iat.kind === 'range') return JwtStatus.JwtPayloadParseErrorIatOutOfRange;
  const nbf = uintField(payload, 'nbf');
  if (nbf.kind === 'wrong') return JwtStatus.JwtPayloadParseErrorNbfNotInteger;
  if (nbf.kind === 'range') return JwtStatus.JwtPayloadParseErrorNbfOutOfRange;
  const exp = uintField(payload, 'exp');
  if (exp.kind === 'wrong') return JwtStatus.JwtPayloadParseErrorExpNotInteger;
  if (exp.kind === 'range') return JwtStatus.JwtPayloadParseErrorExpOutOfRange;
  if (stringField(payload, 'jti').kind === 'wrong') return JwtStatus.JwtPayloadParseErrorJtiNotString;
  // `aud` is a string or a list of strings (StructUtils::GetStringList).
  const aud = payload['aud'];
  let audiences: readonly string[] = [];
  if (typeof aud === 'string') audiences = [aud];
  else if (Array.isArray(aud)) {
    if (!aud.every((a) => typeof a === 'string')) return JwtStatus.JwtPayloadParseErrorAudNotString;
    audiences = aud as string[];
  } else if (aud !== undefined) return JwtStatus.JwtPayloadParseErrorAudNotString;
  const sig = decodeB64url(signatureB64);
  if (sig === undefined) return JwtStatus.JwtSignatureParseErrorBadBase64;
  return {
    alg: alg.value,
    kid: kid.kind === 'ok' ? kid.value : '',
    iss: iss.kind === 'ok' ? iss.value : '',
    audiences,
    nbf: nbf.kind === 'ok' ? nbf.value : 0,
    exp: exp.kind === 'ok' ? exp.value : 0,
    headerB64,
    payloadB64,
    signatureB64,
    signatureLength: sig.length,
    header,
    payload,
  };
}

/** Jwt::verifyTimeConstraint with `now` and the skew in seconds. */
export function checkJwtTime(jwt: ParsedJwt, nowSeconds: number, clockSkewSeconds: number): JwtStatus {
  if (nowSeconds + clockSkewSeconds < jwt.nbf) return JwtStatus.JwtNotYetValid;
  if (jwt.exp !== 0 && nowSeconds > jwt.exp + clockSkewSeconds) return JwtStatus.JwtExpired;
  return JwtStatus.Ok;
}

/** jwt_verify_lib check_audience.cc sanitizeAudience: drops an http:// or https:// prefix and one trailing '/'. */
export function sanitizeAudience(aud: string): string {
  if (aud === '') return aud;
  let beg = 0;
  if (aud.startsWith('http://')) beg = 7;
  else if (aud.startsWith('https://')) beg = 8;
  const end = aud.endsWith('/') ? aud.length - 1 : aud.length;
  return beg === 0 && end === aud.length ? aud : aud.slice(beg, end);
}

/** A compiled audience set (CheckAudience): empty allows every token. */
export type AudienceSet = ReadonlySet<string>;

export function compileAudiences(list: readonly string[]): AudienceSet {
  return new Set(list.map(sanitizeAudience));
}

export function audiencesAllowed(allowed: AudienceSet, jwtAudiences: readonly string[]): boolean {
  if (allowed.size === 0) return true;
  for (const a of jwtAudiences) if (allowed.has(sanitizeAudience(a))) return true;
  return false;
}
