// A provider's JWKS compiled once (jwt_verify_lib Jwks::createFrom with Type::JWKS): every usable key
// with its kid, alg and key material; keys that do not parse are skipped, and a document with no usable key
// is no JWKS at all (Envoy's JwksCache drops an invalid inline JWKS, so requests then fail with
// "Jwks doesn't have any valid public key"). Each key is validated with node:crypto at compile time and
// kept as a frozen public-only JWK (or the HMAC secret), which jose imports once per algorithm and caches
// on the object, so a request never parses the JWKS again.
// Signature checks follow verify.cc verifyJwtWithoutTimeChecking: a key is a candidate unless both sides
// name a different kid, or the key names a different alg; no candidate at all is JwksKidAlgMismatch,
// candidates that all fail are JwtVerificationFail. The signature itself is checked by jose, which is
// loaded only once a JWKS is compiled: a proxy without jwt_authn never holds it (about 0.5 MB of heap).

import { createPublicKey } from 'node:crypto';
import type { JWK } from 'jose';
import type { ParsedJwt } from './jwt.js';
import { JwtStatus } from './status.js';

export interface CompiledJwk {
  /** '' when the JWK has none. */
  readonly kid: string;
  readonly alg: string;
  readonly kty: 'RSA' | 'EC' | 'oct' | 'OKP';
  readonly crv: string;
  /** A public JWK without alg/use/key_ops (jwt_verify_lib ignores those), or the HMAC secret. */
  readonly key: JWK | Uint8Array;
}

export type CompiledJwks = readonly CompiledJwk[];

let jose: Promise<typeof import('jose')> | undefined;

/** jose, imported on first use; compileJwks starts the import so the first request does not wait for it. */
function loadJose(): Promise<typeof import('jose')> {
  jose ??= import('jose');
  return jose;
}

const EC_CRV_BY_ALG: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

function str(o: Record<string, unknown>, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' ? v : undefined;
}

function compileJwk(o: Record<string, unknown>): CompiledJwk | undefined {
  const kty = str(o, 'kty');
  const kid = str(o, 'kid') ?? '';
  const alg = str(o, 'alg') ?? '';
  let jwk: JWK;
  let crv = '';
  switch (kty) {
    case 'RSA': {
      if (alg !== '' && !alg.startsWith('RS') && !alg.startsWith('PS')) return undefined;
      const n = str(o, 'n');
      const e = str(o, 'e');
      if (n === undefined || e === undefined) return undefined;
      jwk = { kty, n, e };
      break;
    }
    case 'EC': {
      if (alg !== '' && !alg.startsWith('ES')) return undefined;
      crv = str(o, 'crv') ?? EC_CRV_BY_ALG[alg] ?? 'P-256';
      const algCrv = EC_CRV_BY_ALG[alg];
      if (alg !== '' && (algCrv === undefined || algCrv !== crv)) return undefined;
      const x = str(o, 'x');
      const y = str(o, 'y');
      if (x === undefined || y === undefined) return undefined;
      jwk = { kty, crv, x, y };
      break;
    }
    case 'OKP': {
      if (alg !== '' && alg !== 'EdDSA') return undefined;
      crv = str(o, 'crv') ?? '';
      const x = str(o, 'x');
      if (crv !== 'Ed25519' || x === undefined) return undefined;
      jwk = { kty, crv, x };
      break;
    }
    case 'oct': {
      if (alg !== '' && !alg.startsWith('HS')) return undefined;
      const k = str(o, 'k');
      if (k === undefined || !/^[A-Za-z0-9_-]*={0,2}$/.test(k)) return undefined;
      return Object.freeze({ kid, alg, kty, crv, key: new Uint8Array(Buffer.from(k, 'base64url')) });
    }
    default:
      return undefined;
  }
  try {
    createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    return undefined;
  }
  return Object.freeze({ kid, alg, kty, crv, key: Object.freeze(jwk) });
}

/** The usable keys of a JWKS document, or undefined when it has none (or is not a JWKS). */
export function compileJwks(text: string): CompiledJwks | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const keys = (doc as Record<string, unknown>)['keys'];
  if (!Array.isArray(keys)) return undefined;
  const out: CompiledJwk[] = [];
  for (const k of keys) {
    if (typeof k !== 'object' || k === null || Array.isArray(k)) continue;
    const c = compileJwk(k as Record<string, unknown>);
    if (c !== undefined) out.push(c);
  }
  if (out.length === 0) return undefined;
  // A failed import shows up where it is awaited (the signature then does not verify).
  loadJose().catch(() => undefined);
  return Object.freeze(out);
}

/** The JWS algorithms a key type can verify (verify.cc dispatches on kty, then on the alg prefix). */
function keyFitsAlg(k: CompiledJwk, alg: string): boolean {
  switch (k.kty) {
    case 'RSA':
      return alg.startsWith('RS') || alg.startsWith('PS');
    case 'EC':
      return alg.startsWith('ES') && EC_CRV_BY_ALG[alg] === k.crv;
    case 'oct':
      return alg.startsWith('HS');
    case 'OKP':
      return alg === 'EdDSA';
  }
}

async function signatureValid(jwt: ParsedJwt, k: CompiledJwk): Promise<boolean> {
  try {
    const { flattenedVerify } = await loadJose();
    await flattenedVerify({ protected: jwt.headerB64, payload: jwt.payloadB64, signature: jwt.signatureB64 }, k.key, { algorithms: [jwt.alg] });
    return true;
  } catch {
    return false;
  }
}

/** verifyJwtWithoutTimeChecking over the compiled keys. */
export async function verifyJwtSignature(jwt: ParsedJwt, jwks: CompiledJwks): Promise<JwtStatus> {
  let matched = false;
  for (const k of jwks) {
    if (jwt.kid !== '' && k.kid !== '' && k.kid !== jwt.kid) continue;
    if (k.alg !== '' && k.alg !== jwt.alg) continue;
    matched = true;
    if (k.kty === 'OKP' && jwt.alg === 'EdDSA' && jwt.signatureLength !== 64) return JwtStatus.JwtEd25519SignatureWrongLength;
    if (keyFitsAlg(k, jwt.alg) && (await signatureValid(jwt, k))) return JwtStatus.Ok;
  }
  return matched ? JwtStatus.JwtVerificationFail : JwtStatus.JwksKidAlgMismatch;
}
