// security.istio.io RequestAuthentication: schema (istio/api security/v1beta1/request_authentication.proto)
// and Istio's validation (ValidateRequestAuthentication, validateJwtRule and warnPrivateJwksKeys in
// pkg/config/validation/validation.go; ParseJwksURI in pkg/config/security/security.go), plus the CRD rule
// "only one of jwks or jwksUri can be set" (the CRD also accepts the alternative name `jwks_uri`).
// Defaults (proto comments): no fromHeaders/fromParams means `Authorization: Bearer <token>` and the
// `access_token` query parameter; timeout 5s (effectiveJwksTimeoutMs); forwardOriginalToken false.

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { PolicyTargetReferenceSchema, selectorAndTargetRefIssues, WorkloadSelectorSchema } from '../istio-common.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { durationString, obj, z } from '../schema.js';
import { durationErrors } from '../validation/common.js';
import { durationMs } from '../validation/duration.js';
import { goUrlParse } from '../validation/go-url.js';
import { unsupportedDryRunIssues } from './authorization-policy.js';

export const JWTHeaderSchema = obj({
  /** REQUIRED in the proto; optional here so Istio's message reports a missing name. */
  name: z.string().optional(),
  prefix: z.string().optional(),
});
export type JWTHeader = z.infer<typeof JWTHeaderSchema>;

export const ClaimToHeaderSchema = obj({ header: z.string().optional(), claim: z.string().optional() });
export type ClaimToHeader = z.infer<typeof ClaimToHeaderSchema>;

export const JWTRuleSchema = obj({
  issuer: z.string().optional(),
  audiences: z.array(z.string()).optional(),
  jwksUri: z.string().optional(),
  /** The CRD's altName for jwksUri (+kubebuilder:altName=jwks_uri). */
  jwks_uri: z.string().optional(),
  jwks: z.string().optional(),
  fromHeaders: z.array(JWTHeaderSchema).optional(),
  fromParams: z.array(z.string()).optional(),
  outputPayloadToHeader: z.string().optional(),
  fromCookies: z.array(z.string()).optional(),
  forwardOriginalToken: z.boolean().optional(),
  outputClaimToHeaders: z.array(ClaimToHeaderSchema).optional(),
  timeout: durationString.optional(),
  /** CRD: +kubebuilder:validation:MaxItems=64. */
  spaceDelimitedClaims: z.array(z.string()).max(64).optional(),
});
export type JWTRule = z.infer<typeof JWTRuleSchema>;

export const RequestAuthenticationSpecSchema = obj({
  selector: WorkloadSelectorSchema.optional(),
  targetRef: PolicyTargetReferenceSchema.optional(),
  targetRefs: z.array(PolicyTargetReferenceSchema).max(16).optional(),
  jwtRules: z.array(JWTRuleSchema).max(4096).optional(),
});
export type RequestAuthenticationSpec = z.infer<typeof RequestAuthenticationSpecSchema>;

const BodySchema = obj({ spec: RequestAuthenticationSpecSchema.default({}), status: z.unknown().optional() });
export type RequestAuthenticationBody = z.infer<typeof BodySchema>;
export type RequestAuthentication = Resource<RequestAuthenticationBody>;

/** The rule's JWKS URI under either spelling. */
export function jwksUriOf(rule: JWTRule): string | undefined {
  return rule.jwksUri ?? rule.jwks_uri;
}

/** JWKS fetch timeout in milliseconds; 5s when unset (proto comment on `timeout`). */
export function effectiveJwksTimeoutMs(rule: JWTRule): number {
  return (rule.timeout !== undefined ? durationMs(rule.timeout) : undefined) ?? 5000;
}

/** security.ParseJwksURI: http or https only. Returns the error, or undefined. */
export function jwksUriError(uri: string): string | undefined {
  const p = goUrlParse(uri);
  if (!p.ok) return p.message;
  if (p.url.scheme !== 'http' && p.url.scheme !== 'https') return `URI scheme ${JSON.stringify(p.url.scheme)} is not supported`;
  const colon = p.url.host.lastIndexOf(':');
  const port = colon >= 0 && !p.url.host.slice(colon).includes(']') ? p.url.host.slice(colon + 1) : '';
  if (port !== '' && BigInt(port) > 9223372036854775807n) return `strconv.Atoi: parsing ${JSON.stringify(port)}: value out of range`;
  return undefined;
}

const STRICT_HEADER_NAME = /^[-_A-Za-z0-9]+$/;

interface JwkCheck {
  readonly parseError?: string;
  /** Indexes of keys with private material (RSA/EC/OKP `d`, or a symmetric `oct` key). */
  readonly privateKeys: readonly number[];
}

const KEY_MEMBERS: Record<string, readonly string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'], oct: ['k'] };

/**
 * Structural check of an inline JWKS standing in for lestrrat-go/jwx's jwk.Parse: a JSON key set
 * (`{"keys": [...]}`) or a single key, each with a known `kty` and its required members. The reasons are
 * ours; Istio prefixes them with `jwks parse error: `.
 */
export function checkJwks(jwks: string): JwkCheck {
  let doc: unknown;
  try {
    doc = JSON.parse(jwks);
  } catch (e) {
    return { parseError: `failed to unmarshal JSON: ${e instanceof Error ? e.message : String(e)}`, privateKeys: [] };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { parseError: 'failed to unmarshal JSON: expected a JSON object', privateKeys: [] };
  const rec = doc as Record<string, unknown>;
  const keys: unknown[] = 'keys' in rec ? (Array.isArray(rec['keys']) ? (rec['keys'] as unknown[]) : []) : [rec];
  if ('keys' in rec && !Array.isArray(rec['keys'])) return { parseError: 'failed to unmarshal JSON into key set: "keys" must be an array', privateKeys: [] };
  const privateKeys: number[] = [];
  for (const [i, k] of keys.entries()) {
    if (typeof k !== 'object' || k === null || Array.isArray(k)) return { parseError: `failed to parse key #${i}: expected a JSON object`, privateKeys: [] };
    const key = k as Record<string, unknown>;
    const kty = key['kty'];
    const members = typeof kty === 'string' ? KEY_MEMBERS[kty] : undefined;
    if (members === undefined) return { parseError: `failed to parse key #${i}: invalid key type from JSON (${typeof kty === 'string' ? kty : ''})`, privateKeys: [] };
    const missing = members.find((m) => typeof key[m] !== 'string');
    if (missing !== undefined) return { parseError: `failed to parse key #${i}: required field ${missing} is missing`, privateKeys: [] };
    if (kty === 'oct' || key['d'] !== undefined) privateKeys.push(i);
  }
  return { privateKeys };
}

function jwtRuleIssues(base: string, rule: JWTRule): Issue[] {
  const out: Issue[] = [];
  (rule.audiences ?? []).forEach((a, k) => {
    if (a === '') out.push(error(at(at(base, 'audiences'), k), 'audience must be non-empty string'));
  });
  const uri = jwksUriOf(rule);
  const uriField = rule.jwksUri !== undefined ? 'jwksUri' : 'jwks_uri';
  if ((rule.issuer ?? '') === '' && (uri ?? '') === '') out.push(error(at(base, 'issuer'), 'issuer or jwksUri must be non-empty string'));
  if (uri !== undefined && uri !== '') {
    const e = jwksUriError(uri);
    if (e !== undefined) out.push(error(at(base, uriField), e));
  }
  // CRD: +kubebuilder:validation:XValidation rule="oneof(self.jwksUri, self.jwks_uri, self.jwks)".
  if ([rule.jwksUri, rule.jwks_uri, rule.jwks].filter((x) => x !== undefined).length > 1) out.push(error(base, 'only one of jwks or jwksUri can be set'));
  if (rule.jwks !== undefined && rule.jwks !== '') {
    const c = checkJwks(rule.jwks);
    if (c.parseError !== undefined) out.push(error(at(base, 'jwks'), `jwks parse error: ${c.parseError}`));
    for (const i of c.privateKeys)
      out.push(warning(at(base, 'jwks'), `jwks key at index ${i} contains private key material; only public keys are used for verification`));
  }
  (rule.fromHeaders ?? []).forEach((h, k) => {
    if ((h.name ?? '') === '') out.push(error(at(at(at(base, 'fromHeaders'), k), 'name'), 'location header name must be non-empty string'));
  });
  (rule.fromParams ?? []).forEach((p, k) => {
    if (p === '') out.push(error(at(at(base, 'fromParams'), k), 'location query must be non-empty string'));
  });
  (rule.fromCookies ?? []).forEach((c, k) => {
    if (c === '') out.push(error(at(at(base, 'fromCookies'), k), 'cookie name must be non-empty string'));
  });
  (rule.outputClaimToHeaders ?? []).forEach((ch, k) => {
    const p = at(at(base, 'outputClaimToHeaders'), k);
    if ((ch.claim ?? '') === '' || (ch.header ?? '') === '') {
      out.push(error(p, 'outputClaimToHeaders header and claim value must be non-empty string'));
      return;
    }
    const header = ch.header ?? '';
    if (!STRICT_HEADER_NAME.test(header)) out.push(error(at(p, 'header'), `header name ${header} is not a valid header name`));
  });
  if (rule.timeout !== undefined) for (const m of durationErrors(rule.timeout)) out.push(error(at(base, 'timeout'), m));
  return out;
}

export function validateRequestAuthentication(r: RequestAuthentication): Issue[] {
  const out: Issue[] = [...unsupportedDryRunIssues(r), ...selectorAndTargetRefIssues(r.spec)];
  (r.spec.jwtRules ?? []).forEach((rule, i) => out.push(...jwtRuleIssues(`spec.jwtRules[${i}]`, rule)));
  return out;
}

export const REQUEST_AUTHENTICATION = defineKind<RequestAuthenticationBody>({
  group: 'security.istio.io',
  kind: 'RequestAuthentication',
  versions: ['v1', 'v1beta1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateRequestAuthentication,
});
