// Checking one request against a compiled requirement tree (Envoy's jwt_authn verifier.cc and
// authenticator.cc). With inline JWKS Envoy completes every child synchronously, so a group runs its
// children in order and stops at the deciding one; we do the same, and only signature checks (jose, Web
// Crypto) are asynchronous, so a request without tokens is decided without a promise.
// Authenticator (AuthenticatorImpl): tokens are checked from the last extracted back; a parse error,
// an issuer the location was not configured for (JwtUnknownIssuer), time (exp/nbf with clock skew),
// audiences, then the signature. Every token must pass unless missing/failed tokens are allowed. A good
// token adds forward_payload_header and claim_to_headers, drops its header when forward is false, and
// stages header/payload metadata that is published only when the whole requirement passes.
// requires_any aggregates failures preferring a real error over JwtMissed/JwtUnknownIssuer, then applies
// allow_missing / allow_missing_or_failed; requires_all stops at the first failure.

import type { HeaderMap } from '../../http/headers.js';
import type { JwtProviderConfig, JwtVerifierNode } from './config.js';
import { extractTokens, issuerAllowed, sanitizeHeaders, type Extractor, type JwtLocation } from './extractor.js';
import { verifyJwtSignature } from './jwks.js';
import { audiencesAllowed, checkJwtTime, type AudienceSet, type ParsedJwt, parseJwt } from './jwt.js';
import { JwtStatus, jwtStatusText } from './status.js';

type Maybe<T> = T | Promise<T>;

export interface VerifyRequest {
  /** The request headers, edited in place (forwarded payload, claims, removed tokens). */
  readonly headers: HeaderMap;
  /** :path with the query. */
  readonly path: string;
  readonly nowSeconds: number;
  readonly providers: readonly JwtProviderConfig[];
  /** Extracted data by metadata key, published when the requirement passes. */
  readonly data: Record<string, unknown>;
}

interface AuthSpec {
  readonly provider: JwtProviderConfig | undefined;
  readonly audiences: AudienceSet | undefined;
  readonly allowFailed: boolean;
  readonly allowMissing: boolean;
}

/** JwksCache::findByIssuer: the first provider with the issuer, else the first without one. */
function findByIssuer(providers: readonly JwtProviderConfig[], iss: string): JwtProviderConfig | undefined {
  let blank: JwtProviderConfig | undefined;
  for (const p of providers) {
    if (p.issuer === iss) return p;
    if (p.issuer === '' && blank === undefined) blank = p;
  }
  return blank;
}

function appendHeader(h: HeaderMap, name: string, value: string): void {
  const v = h[name];
  if (v === undefined) h[name] = value;
  else if (typeof v === 'string') h[name] = [v, value];
  else v.push(value);
}

/** StructUtils::GetValue: a claim by name, '.' walking into nested objects. */
function claimValue(payload: Readonly<Record<string, unknown>>, name: string): unknown {
  let cur: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** authenticator.cc addJWTClaimToHeader's value: strings as is, numbers, booleans, objects/lists as base64 JSON. */
function claimHeaderValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      return v === null ? '' : Buffer.from(JSON.stringify(v)).toString('base64');
    default:
      return '';
  }
}

/** normalize_payload_in_metadata: space-delimited string claims become lists. */
function metadataPayload(p: JwtProviderConfig, payload: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...payload };
  for (const claim of p.spaceDelimitedClaims) {
    const v = payload[claim];
    if (typeof v === 'string') out[claim] = v.split(' ').filter((s) => s !== '');
  }
  return out;
}

class Authenticator {
  #provider: JwtProviderConfig | undefined;

  constructor(
    private readonly req: VerifyRequest,
    private readonly spec: AuthSpec,
    private readonly tokens: JwtLocation[],
  ) {
    this.#provider = spec.provider;
  }

  run(): Maybe<JwtStatus> {
    return this.tokens.length === 0 ? this.#done(JwtStatus.JwtMissed) : this.#next();
  }

  #next(): Maybe<JwtStatus> {
    const loc = this.tokens.pop() as JwtLocation;
    const jwt = parseJwt(loc.token);
    if (typeof jwt === 'number') return this.#done(jwt);
    if (!issuerAllowed(loc.issuers, jwt.iss)) return this.#done(JwtStatus.JwtUnknownIssuer);
    if (this.spec.provider === undefined) this.#provider = findByIssuer(this.req.providers, jwt.iss);
    const p = this.#provider;
    if (p === undefined) return this.#done(JwtStatus.JwtUnknownIssuer);
    const t = checkJwtTime(jwt, this.req.nowSeconds, p.clockSkewSeconds);
    if (t !== JwtStatus.Ok) return this.#done(t);
    if (!audiencesAllowed(this.spec.audiences ?? p.audiences, jwt.audiences)) return this.#done(JwtStatus.JwtAudienceNotAllowed);
    if (p.jwks === undefined) return this.#done(JwtStatus.JwksNoValidKeys);
    return verifyJwtSignature(jwt, p.jwks).then((st) => (st === JwtStatus.Ok ? this.#good(p, jwt, loc) : this.#done(st)));
  }

  #good(p: JwtProviderConfig, jwt: ParsedJwt, loc: JwtLocation): Maybe<JwtStatus> {
    const h = this.req.headers;
    if (p.forwardPayloadHeader !== '') {
      let v = jwt.payloadB64;
      if (p.padForwardPayloadHeader && v.length % 4 !== 0) v += '='.repeat(4 - (v.length % 4));
      appendHeader(h, p.forwardPayloadHeader, v);
    }
    for (const c of p.claimToHeaders) {
      const v = claimHeaderValue(claimValue(jwt.payload, c.claimName));
      if (v !== '') appendHeader(h, c.headerName, v);
    }
    if (!p.forward && loc.header !== undefined) delete h[loc.header];
    if (p.headerInMetadata !== '') this.req.data[p.headerInMetadata] = jwt.header;
    if (p.payloadInMetadata !== '') this.req.data[p.payloadInMetadata] = metadataPayload(p, jwt.payload);
    return this.#done(JwtStatus.Ok);
  }

  /** AuthenticatorImpl::doneWithStatus. */
  #done(status: JwtStatus): Maybe<JwtStatus> {
    if (status !== JwtStatus.Ok) {
      const ps = this.req.providers;
      const key = this.#provider?.failedStatusInMetadata ?? (ps.length === 1 ? (ps[0] as JwtProviderConfig).failedStatusInMetadata : '');
      if (key !== '') this.req.data[key] = { code: status, message: jwtStatusText(status) };
    }
    const { allowFailed, allowMissing } = this.spec;
    if ((status !== JwtStatus.Ok && !allowFailed && !allowMissing) || this.tokens.length === 0) {
      this.tokens.length = 0;
      if (allowFailed) return JwtStatus.Ok;
      if (allowMissing && status === JwtStatus.JwtMissed) return JwtStatus.Ok;
      return status;
    }
    return this.#next();
  }
}

function authenticate(req: VerifyRequest, x: Extractor, spec: AuthSpec): Maybe<JwtStatus> {
  sanitizeHeaders(x, req.headers);
  return new Authenticator(req, spec, extractTokens(x, req.headers, req.path)).run();
}

/** AnyVerifierImpl::onComplete once every child failed. */
function anyFailed(node: Extract<JwtVerifierNode, { kind: 'any' }>, statuses: readonly JwtStatus[]): JwtStatus {
  let final = JwtStatus.JwtMissed;
  for (const s of statuses) if ((s !== JwtStatus.JwtMissed && s !== JwtStatus.JwtUnknownIssuer) || final === JwtStatus.JwtMissed) final = s;
  if (node.allowMissingOrFailed) return JwtStatus.Ok;
  if (node.allowMissing && final === JwtStatus.JwtMissed) return JwtStatus.Ok;
  return final;
}

function anyFrom(node: Extract<JwtVerifierNode, { kind: 'any' }>, req: VerifyRequest, from: number, statuses: JwtStatus[]): Maybe<JwtStatus> {
  for (let i = from; i < node.children.length; i++) {
    const r = verifyNode(node.children[i] as JwtVerifierNode, req);
    if (r instanceof Promise)
      return r.then((st) => {
        if (st === JwtStatus.Ok) return st;
        statuses.push(st);
        return anyFrom(node, req, i + 1, statuses);
      });
    if (r === JwtStatus.Ok) return r;
    statuses.push(r);
  }
  return anyFailed(node, statuses);
}

function allFrom(node: Extract<JwtVerifierNode, { kind: 'all' }>, req: VerifyRequest, from: number): Maybe<JwtStatus> {
  for (let i = from; i < node.children.length; i++) {
    const r = verifyNode(node.children[i] as JwtVerifierNode, req);
    if (r instanceof Promise) return r.then((st) => (st === JwtStatus.Ok ? allFrom(node, req, i + 1) : st));
    if (r !== JwtStatus.Ok) return r;
  }
  return JwtStatus.Ok;
}

/** The status of one requirement: synchronous unless a signature had to be checked. */
export function verifyNode(node: JwtVerifierNode, req: VerifyRequest): Maybe<JwtStatus> {
  switch (node.kind) {
    case 'allow-all':
      return JwtStatus.Ok;
    case 'provider':
      return authenticate(req, node.provider.extractor, { provider: node.provider, audiences: node.audiences, allowFailed: false, allowMissing: false });
    case 'allow-missing':
      return authenticate(req, node.extractor, { provider: undefined, audiences: undefined, allowFailed: false, allowMissing: true });
    case 'allow-missing-or-failed':
      return authenticate(req, node.extractor, { provider: undefined, audiences: undefined, allowFailed: true, allowMissing: true });
    case 'any':
      return anyFrom(node, req, 0, []);
    case 'all':
      return allFrom(node, req, 0);
  }
}
