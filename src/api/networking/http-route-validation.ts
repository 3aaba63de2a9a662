// networking.istio.io VirtualService, HTTP part: the schemas of HTTPRoute and the messages it is built
// from (StringMatch, Destination, Headers, ...), and Istio's checks on one HTTP route (validateHTTPRoute
// and the helpers it calls in istio/istio pkg/config/validation/virtualservice.go, validation.go and
// agent/validation.go). Also the few Istio checks VirtualService's TCP/TLS routes share with HTTP
// (destinations, gateway names, source labels, wildcard hosts); virtual-service.ts re-exports the types.
//
// Note on hosts and labels: Istio's DNS-1123 label rule (pkg/config/labels) accepts upper case letters and
// wildcard labels such as `*-foo`, unlike Kubernetes' lower-case-only rule in ../names.ts; the helpers here
// follow Istio's.

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { onlyOneOf } from '../istio-common.js';
import { durationString, enumOf, int32, obj, stringMap, uint32, z } from '../schema.js';
import { durationErrors, isIPAddress, regexErrors } from '../validation/common.js';
import { parseGoDuration } from '../validation/duration.js';

// ---------------------------------------------------------------------------------------------------------
// Schemas (istio/api networking/v1alpha3/virtual_service.proto; v1 and v1beta1 are the same messages)

/** oneof match_type { exact, prefix, regex }; checked with onlyOneOf in the validator. */
export const StringMatchSchema = obj({
  exact: z.string().optional(),
  prefix: z.string().optional(),
  regex: z.string().optional(),
});
export type StringMatch = z.infer<typeof StringMatchSchema>;

export const PortSelectorSchema = obj({ number: uint32.optional() });
export type PortSelector = z.infer<typeof PortSelectorSchema>;

/** `host` is REQUIRED in the API; kept optional here so Istio's own message reports it (empty domain name). */
export const DestinationSchema = obj({
  host: z.string().optional(),
  subset: z.string().optional(),
  port: PortSelectorSchema.optional(),
});
export type Destination = z.infer<typeof DestinationSchema>;

export const PercentSchema = obj({ value: z.number().optional() });
export type Percent = z.infer<typeof PercentSchema>;

export const HeaderOperationsSchema = obj({
  set: stringMap.optional(),
  add: stringMap.optional(),
  remove: z.array(z.string()).optional(),
});
export type HeaderOperations = z.infer<typeof HeaderOperationsSchema>;

export const HeadersSchema = obj({ request: HeaderOperationsSchema.optional(), response: HeaderOperationsSchema.optional() });
export type Headers = z.infer<typeof HeadersSchema>;

export const HTTPMatchRequestSchema = obj({
  name: z.string().optional(),
  uri: StringMatchSchema.optional(),
  scheme: StringMatchSchema.optional(),
  method: StringMatchSchema.optional(),
  authority: StringMatchSchema.optional(),
  headers: z.record(z.string(), StringMatchSchema).optional(),
  port: uint32.optional(),
  sourceLabels: stringMap.optional(),
  gateways: z.array(z.string()).optional(),
  queryParams: z.record(z.string(), StringMatchSchema).optional(),
  ignoreUriCase: z.boolean().optional(),
  withoutHeaders: z.record(z.string(), StringMatchSchema).optional(),
  sourceNamespace: z.string().optional(),
  statPrefix: z.string().optional(),
});
export type HTTPMatchRequest = z.infer<typeof HTTPMatchRequestSchema>;

export const HTTPRouteDestinationSchema = obj({
  destination: DestinationSchema.optional(),
  weight: int32.optional(),
  headers: HeadersSchema.optional(),
});
export type HTTPRouteDestination = z.infer<typeof HTTPRouteDestinationSchema>;

export const REDIRECT_PORT_SELECTIONS = ['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'] as const;

/** oneof redirect_port { port, derivePort }. */
export const HTTPRedirectSchema = obj({
  uri: z.string().optional(),
  authority: z.string().optional(),
  port: uint32.optional(),
  derivePort: enumOf(REDIRECT_PORT_SELECTIONS).optional(),
  scheme: z.string().optional(),
  redirectCode: uint32.optional(),
  prefixRewrite: z.string().optional(),
});
export type HTTPRedirect = z.infer<typeof HTTPRedirectSchema>;

/** oneof specifier { string, bytes }; `bytes` is base64 as in protobuf JSON. */
export const HTTPBodySchema = obj({ string: z.string().optional(), bytes: z.string().optional() });
export type HTTPBody = z.infer<typeof HTTPBodySchema>;

export const HTTPDirectResponseSchema = obj({ status: uint32.optional(), body: HTTPBodySchema.optional() });
export type HTTPDirectResponse = z.infer<typeof HTTPDirectResponseSchema>;

export const DelegateSchema = obj({ name: z.string().optional(), namespace: z.string().optional() });
export type Delegate = z.infer<typeof DelegateSchema>;

export const RegexRewriteSchema = obj({ match: z.string().optional(), rewrite: z.string().optional() });
export type RegexRewrite = z.infer<typeof RegexRewriteSchema>;

export const HTTPRewriteSchema = obj({
  uri: z.string().optional(),
  authority: z.string().optional(),
  uriRegexRewrite: RegexRewriteSchema.optional(),
});
export type HTTPRewrite = z.infer<typeof HTTPRewriteSchema>;

export const HTTPRetrySchema = obj({
  attempts: int32.optional(),
  perTryTimeout: durationString.optional(),
  retryOn: z.string().optional(),
  retryRemoteLocalities: z.boolean().optional(),
  retryIgnorePreviousHosts: z.boolean().optional(),
  backoff: durationString.optional(),
});
export type HTTPRetry = z.infer<typeof HTTPRetrySchema>;

export const UNMATCHED_PREFLIGHTS = ['UNSPECIFIED', 'FORWARD', 'IGNORE'] as const;

export const CorsPolicySchema = obj({
  /** Deprecated: use allowOrigins. */
  allowOrigin: z.array(z.string()).optional(),
  allowOrigins: z.array(StringMatchSchema).optional(),
  allowMethods: z.array(z.string()).optional(),
  allowHeaders: z.array(z.string()).optional(),
  exposeHeaders: z.array(z.string()).optional(),
  maxAge: durationString.optional(),
  allowCredentials: z.boolean().optional(),
  unmatchedPreflights: enumOf(UNMATCHED_PREFLIGHTS).optional(),
});
export type CorsPolicy = z.infer<typeof CorsPolicySchema>;

/** oneof http_delay_type { fixedDelay, exponentialDelay }. */
export const HTTPFaultDelaySchema = obj({
  /** Deprecated: use percentage. */
  percent: int32.optional(),
  fixedDelay: durationString.optional(),
  exponentialDelay: durationString.optional(),
  percentage: PercentSchema.optional(),
});
export type HTTPFaultDelay = z.infer<typeof HTTPFaultDelaySchema>;

/** oneof error_type { httpStatus, grpcStatus, http2Error }. */
export const HTTPFaultAbortSchema = obj({
  httpStatus: int32.optional(),
  grpcStatus: z.string().optional(),
  http2Error: z.string().optional(),
  percentage: PercentSchema.optional(),
});
export type HTTPFaultAbort = z.infer<typeof HTTPFaultAbortSchema>;

export const HTTPFaultInjectionSchema = obj({ delay: HTTPFaultDelaySchema.optional(), abort: HTTPFaultAbortSchema.optional() });
export type HTTPFaultInjection = z.infer<typeof HTTPFaultInjectionSchema>;

export const HTTPMirrorPolicySchema = obj({ destination: DestinationSchema.optional(), percentage: PercentSchema.optional() });
export type HTTPMirrorPolicy = z.infer<typeof HTTPMirrorPolicySchema>;

export const HTTPRouteSchema = obj({
  name: z.string().optional(),
  match: z.array(HTTPMatchRequestSchema).optional(),
  route: z.array(HTTPRouteDestinationSchema).optional(),
  redirect: HTTPRedirectSchema.optional(),
  directResponse: HTTPDirectResponseSchema.optional(),
  delegate: DelegateSchema.optional(),
  rewrite: HTTPRewriteSchema.optional(),
  timeout: durationString.optional(),
  retries: HTTPRetrySchema.optional(),
  fault: HTTPFaultInjectionSchema.optional(),
  mirror: DestinationSchema.optional(),
  mirrors: z.array(HTTPMirrorPolicySchema).optional(),
  /** Deprecated (google.protobuf.UInt32Value): use mirrorPercentage. */
  mirrorPercent: uint32.optional(),
  mirrorPercentage: PercentSchema.optional(),
  corsPolicy: CorsPolicySchema.optional(),
  headers: HeadersSchema.optional(),
});
export type HTTPRoute = z.infer<typeof HTTPRouteSchema>;

// ---------------------------------------------------------------------------------------------------------
// Go formatting, so messages read exactly as Istio's

/** Go's %q for the ASCII strings config holds. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's %v for a float64: shortest digits, exponent form when the exponent is < -4 or >= 6 (strconv 'g', -1). */
function goFloatV(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const exp = Number(v.toExponential().split('e')[1] ?? '0');
  return exp < -4 || exp >= 6 ? goExp(v) : String(v);
}

function goExp(v: number): string {
  const [mant = '', e = '0'] = v.toExponential().split('e');
  const n = Number(e);
  const abs = String(Math.abs(n)).padStart(2, '0');
  return `${mant}e${n < 0 ? '-' : '+'}${abs}`;
}

/** Go's %f. */
function goFloatF(v: number): string {
  return v.toFixed(6);
}

// ---------------------------------------------------------------------------------------------------------
// Istio's host, label and name rules (pkg/config/labels, agent/validation.go)

const ISTIO_DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const ISTIO_WILDCARD_PREFIX = /^(?:\*|(?:\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;
const QUALIFIED_NAME = '(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const DNS_LABEL_FMT = '[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?';
const TAG_KEY = new RegExp(`^(${DNS_LABEL_FMT}(?:\\.${DNS_LABEL_FMT})*/)?(${QUALIFIED_NAME})$`);
const TAG_VALUE = new RegExp(`^(?:${QUALIFIED_NAME})?$`);

/** labels.IsDNS1123Label (letters of either case). */
export function isIstioDns1123Label(s: string): boolean {
  return s.length <= 63 && ISTIO_DNS1123_LABEL.test(s);
}

function isIstioWildcardDns1123Label(s: string): boolean {
  return s.length <= 63 && ISTIO_WILDCARD_PREFIX.test(s);
}

/** strconv.Atoi succeeds. */
function isGoInt(s: string): boolean {
  if (!/^[+-]?\d+$/.test(s)) return false;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

function dns1123PreconditionErrors(name: string): string[] {
  if (Buffer.byteLength(name, 'utf8') > 255) return [`domain name ${goQuote(name)} too long (max 255)`];
  if (name.length === 0) return ['empty domain name not allowed'];
  return [];
}

function dns1123LabelsErrors(domain: string): string[] {
  const parts = domain.split('.');
  const tld = parts[parts.length - 1] ?? '';
  if (isGoInt(tld)) return [`domain name ${goQuote(domain)} invalid (top level domain ${goQuote(tld)} cannot be all-numeric)`];
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i] ?? '';
    if (i === parts.length - 1 && label === '') return [];
    if (!isIstioDns1123Label(label)) return [`domain name ${goQuote(domain)} invalid (label ${goQuote(label)} invalid)`];
  }
  return [];
}

/** agent.ValidateFQDN */
export function istioFqdnErrors(fqdn: string): string[] {
  const pre = dns1123PreconditionErrors(fqdn);
  return pre.length > 0 ? pre : dns1123LabelsErrors(fqdn);
}

/** agent.ValidateWildcardDomain: a wildcard is allowed only in the first label. */
export function istioWildcardDomainErrors(domain: string): string[] {
  const pre = dns1123PreconditionErrors(domain);
  if (pre.length > 0) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (!isIstioWildcardDns1123Label(first)) return [`domain name ${goQuote(domain)} invalid (label ${goQuote(first)} invalid)`];
  return dot < 0 ? [] : dns1123LabelsErrors(domain.slice(dot + 1));
}

const OUTBOUND_SNI_FORMAT = 'outbound_.<PORT>_._.<HOSTNAME>';

/** agent.ValidateWildcardDomainForVirtualServiceBoundToGateway: also accepts AUTO_PASSTHROUGH SNI names. */
export function gatewayBoundDomainErrors(sni: boolean, domain: string): string[] {
  const pre = dns1123PreconditionErrors(domain);
  if (pre.length > 0) return pre;
  if (sni && domain.startsWith('outbound_')) {
    const parts = domain.split('_');
    if (parts.length < 4) return [`domain name ${domain} invalid, should follow '${OUTBOUND_SNI_FORMAT}' format`];
    const trim = (s: string): string => s.replace(/^\.+|\.+$/g, '');
    const direction = parts[0] ?? '';
    const port = trim(parts[1] ?? '');
    const hostname = trim(parts[3] ?? '');
    if (direction !== 'outbound') return [`domain name ${goQuote(domain)} invalid (label ${goQuote(direction)} invalid)`];
    if (!/[0-9]/.test(port)) return [`domain name ${goQuote(domain)} invalid (label ${goQuote(port)} invalid). should follow ${OUTBOUND_SNI_FORMAT} format`];
    if (!/[a-zA-Z]/.test(hostname))
      return [`domain name ${goQuote(domain)} invalid (label ${goQuote(hostname)} invalid). should follow ${OUTBOUND_SNI_FORMAT} format`];
    return [];
  }
  return istioWildcardDomainErrors(domain);
}

/** labels.Instance.Validate, for `sourceLabels`. */
export function sourceLabelsIssues(path: string, labels: Readonly<Record<string, string>> | undefined): Issue[] {
  const out: Issue[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    const m = TAG_KEY.exec(k);
    if (m === null) out.push(error(at(path, k), `invalid tag key: ${goQuote(k)}`));
    else if ((m[1] ?? '').length - 1 > 253) out.push(error(at(path, k), `invalid tag key: ${goQuote(k)} (DNS prefix is too long)`));
    else if ((m[2] ?? '').length > 63) out.push(error(at(path, k), `invalid tag key: ${goQuote(k)} (name is too long)`));
    if (!TAG_VALUE.test(v)) out.push(error(at(path, k), `invalid tag value: ${goQuote(v)}`));
  }
  return out;
}

/**
 * validateGatewayNames: `namespace/name`, or a legacy `name[.namespace...]` FQDN (with a warning). Istio
 * stops at the first name without a slash (its loop returns there), so later names are not checked; kept.
 * `keepWarnings` is false where Istio folds the result with appendErrors, which drops warnings.
 */
export function gatewayNamesIssues(path: string, names: readonly string[] | undefined, gatewaySemantics: boolean, keepWarnings: boolean): Issue[] {
  const out: Issue[] = [];
  for (const [i, name] of (names ?? []).entries()) {
    const p = at(path, i);
    const slash = name.indexOf('/');
    if (slash < 0) {
      if (name.includes('.') && keepWarnings) {
        const parts = name.split('.');
        const recommended = `${parts[1] ?? ''}/${parts[0] ?? ''}`;
        out.push(warning(p, `using legacy gatewayName format ${goQuote(name)}; prefer the <namespace>/<name> format: ${goQuote(recommended)}`));
      }
      for (const m of istioFqdnErrors(name)) out.push(error(p, m));
      return out;
    }
    const ns = name.slice(0, slash);
    const gw = name.slice(slash + 1);
    if (ns.length === 0 || gw.length === 0) out.push(error(p, 'config namespace and gateway name cannot be empty'));
    if (!isIstioDns1123Label(ns)) out.push(error(p, `invalid value for namespace: ${goQuote(ns)}`));
    if (!isIstioDns1123Label(gw) && !gatewaySemantics) out.push(error(p, `invalid value for gateway name: ${goQuote(gw)}`));
  }
  return out;
}

/** validateDestination */
export function destinationIssues(path: string, d: Destination | undefined): Issue[] {
  if (d === undefined) return [];
  const out: Issue[] = [];
  const host = d.host ?? '';
  if (host === '*') out.push(error(at(path, 'host'), `invalid destination host ${host}`));
  else for (const m of istioWildcardDomainErrors(host)) out.push(error(at(path, 'host'), m));
  if (d.subset !== undefined && d.subset !== '' && !isIstioDns1123Label(d.subset))
    out.push(error(at(path, 'subset'), `subset name is invalid: ${d.subset}`));
  if (d.port !== undefined) out.push(...portIssues(at(at(path, 'port'), 'number'), d.port.number ?? 0));
  return out;
}

function portIssues(path: string, port: number): Issue[] {
  return port >= 1 && port <= 65535 ? [] : [error(path, `port number ${port} must be in the range 1..65535`)];
}

/** validateWeight and the total-weight rule shared by HTTP, TCP and TLS routes (validate*RouteDestinations). */
export function routeDestinationIssues(
  path: string,
  routes: readonly { destination?: Destination | undefined; weight?: number | undefined }[] | undefined,
  gatewaySemantics: boolean,
): Issue[] {
  const out: Issue[] = [];
  let total = 0;
  for (const [i, r] of (routes ?? []).entries()) {
    const p = at(path, i);
    if (r.destination === undefined) out.push(error(at(p, 'destination'), 'destination is required'));
    if (!gatewaySemantics) out.push(...destinationIssues(at(p, 'destination'), r.destination));
    const w = r.weight ?? 0;
    if (w < 0) out.push(error(at(p, 'weight'), `weight ${w} < 0`));
    total += w;
  }
  if ((routes?.length ?? 0) > 1 && total === 0) out.push(error(path, 'total destination weight = 0'));
  return out;
}

function durationIssues(path: string, d: string | undefined): Issue[] {
  return d === undefined ? [] : durationErrors(d).map((m) => error(path, m));
}

// ---------------------------------------------------------------------------------------------------------
// String matches (validateStringMatch, validateStringMatchRegexp, validateStringRegexp)

function stringMatchOneOf(path: string, sm: StringMatch | undefined): Issue[] {
  return sm === undefined ? [] : onlyOneOf(path, sm, ['exact', 'prefix', 'regex']);
}

/** validateStringRegexp: RE2 syntax, at most 1024 bytes (Envoy's program-size limit approximated by length). */
export function stringRegexpIssues(path: string, re: string, where: string): Issue[] {
  if (Buffer.byteLength(re, 'utf8') > 1024) return [error(path, `${goQuote(where)}: regex is too large, max length allowed is 1024`)];
  return regexErrors(re).map((m) =>
    error(path, `${goQuote(where)}: ${m}; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)`),
  );
}

/** Only the regex member is checked (URI matches allow an empty prefix). */
function stringMatchRegexpIssues(path: string, sm: StringMatch | undefined, where: string): Issue[] {
  if (sm?.regex === undefined) return [];
  if (sm.regex === '') return [error(at(path, 'regex'), `${goQuote(where)}: regex string match should not be empty`)];
  return stringRegexpIssues(at(path, 'regex'), sm.regex, where);
}

function stringMatchIssues(path: string, sm: StringMatch | undefined, where: string): Issue[] {
  if (sm === undefined) return [];
  if (sm.prefix !== undefined) {
    if (sm.prefix === '') return [error(at(path, 'prefix'), `${goQuote(where)}: prefix string match should not be empty`)];
    return [];
  }
  return stringMatchRegexpIssues(path, sm, where);
}

// ---------------------------------------------------------------------------------------------------------
// Header names and values (validation.go, header_value_validator.go)

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);
const HEADER_VALUE_CHARS = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
const JWT_CLAIM_HEADER = '@request.auth.claims';

/** jwt.ToRoutingClaim(name).Match: `@request.auth.claims.a.b` or `@request.auth.claims[a][b]`. */
export function isJwtClaimRoute(name: string): boolean {
  if (!name.toLowerCase().startsWith(JWT_CLAIM_HEADER)) return false;
  const rest = name.slice(JWT_CLAIM_HEADER.length);
  return (rest.startsWith('.') && rest.length > 1) || (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2);
}

function headerNameOrJwtClaimErrors(name: string): string[] {
  if (name === '') return ['header name cannot be empty'];
  if (isJwtClaimRoute(name) || PSEUDO_HEADERS.has(name)) return [];
  return HEADER_NAME.test(name) ? [] : [`header name ${name} is not a valid header name`];
}

function isInternalHeader(k: string): boolean {
  return k.startsWith(':') || k.toLowerCase() === 'host';
}

function isAuthorityHeader(k: string): boolean {
  const l = k.toLowerCase();
  return l === ':authority' || l === 'host';
}

/** ValidateHTTPHeaderWithAuthorityOperationName: request add/set may target the authority (checked later). */
function headerWithAuthorityOperationNameErrors(name: string): string[] {
  if (name === '') return ['header name cannot be empty'];
  if (isInternalHeader(name) && !isAuthorityHeader(name)) return [`invalid header ${goQuote(name)}: header cannot have ":" prefix`];
  return [];
}

/** ValidateHTTPHeaderOperationName: request remove and every response operation. */
function headerOperationNameErrors(name: string): string[] {
  if (name === '') return ['header name cannot be empty'];
  if (name.toLowerCase() === 'host') return [`invalid header ${goQuote(name)}: cannot set Host header`];
  if (isInternalHeader(name)) return [`invalid header ${goQuote(name)}: header cannot have ":" prefix`];
  return [];
}

/** Port of Envoy's header formatter parser (validateHeaderValue): `%VAR%`, `%VAR(args)%`, `%%`. */
function headerFormatterError(v: string): string | undefined {
  if (v === '') return undefined;
  type State = 'literal' | 'varName' | 'expectArray' | 'expectString' | 'string' | 'expectDelimOrEnd' | 'expectArgsEnd' | 'expectVarEnd';
  let state: State = 'literal';
  for (let pos = 0; pos < v.length; pos++) {
    const ch = v[pos];
    const hasNext = pos + 1 < v.length;
    switch (state) {
      case 'literal':
        if (ch !== '%') break;
        if (!hasNext) return 'invalid header configuration. Un-escaped %';
        if (v[pos + 1] === '%') {
          pos++;
          break;
        }
        state = 'varName';
        break;
      case 'varName':
        if (ch === '%') state = 'literal';
        else if (ch === '(') state = 'expectArray';
        break;
      case 'expectArray':
        if (ch === '[') state = 'expectString';
        else if (ch !== ' ') state = 'string';
        break;
      case 'expectDelimOrEnd':
        if (ch === ',') state = 'expectString';
        else if (ch === ']') state = 'expectArgsEnd';
        else if (ch !== ' ') return "invalid header configuration. Expecting ',', ']', or whitespace";
        break;
      case 'expectString':
        if (ch === '"') state = 'string';
        else if (ch !== ' ') return `invalid header configuration. Expecting '"'`;
        break;
      case 'string':
        if (ch === '\\') {
          if (!hasNext) return 'invalid header configuration. Un-terminated backslash in JSON string';
          pos++;
        } else if (ch === ')') state = 'expectVarEnd';
        else if (ch === '"') state = 'expectDelimOrEnd';
        break;
      case 'expectArgsEnd':
        if (ch === ')') state = 'expectVarEnd';
        else if (ch !== ' ') return "invalid header configuration. Expecting ')' or whitespace after '{}', but found '{}'";
        break;
      case 'expectVarEnd':
        if (ch === '%') state = 'literal';
        else if (ch !== ' ') return "invalid header configuration. Expecting '%' or whitespace after";
        break;
    }
  }
  return state === 'literal' ? undefined : `invalid header configuration. Un-terminated variable expression '${v}'`;
}

/** ValidateHTTPHeaderValue */
function headerValueErrors(v: string): string[] {
  if (!HEADER_VALUE_CHARS.test(v)) return [`header value configuration ${v} is invalid`];
  const e = headerFormatterError(v);
  return e === undefined ? [] : [`header value configuration: ${e}`];
}

/** The header operations of a route or of one destination. */
function headersIssues(path: string, h: Headers | undefined): Issue[] {
  if (h === undefined) return [];
  const out: Issue[] = [];
  const req = at(path, 'request');
  const resp = at(path, 'response');
  for (const op of ['add', 'set'] as const) {
    for (const [k, v] of Object.entries(h.request?.[op] ?? {})) {
      const p = at(at(req, op), k);
      for (const m of headerWithAuthorityOperationNameErrors(k)) out.push(error(p, m));
      for (const m of headerValueErrors(v)) out.push(error(p, m));
    }
  }
  for (const [i, k] of (h.request?.remove ?? []).entries()) for (const m of headerOperationNameErrors(k)) out.push(error(at(at(req, 'remove'), i), m));
  for (const op of ['add', 'set'] as const) {
    for (const [k, v] of Object.entries(h.response?.[op] ?? {})) {
      const p = at(at(resp, op), k);
      for (const m of headerOperationNameErrors(k)) out.push(error(p, m));
      for (const m of headerValueErrors(v)) out.push(error(p, m));
    }
  }
  for (const [i, k] of (h.response?.remove ?? []).entries()) for (const m of headerOperationNameErrors(k)) out.push(error(at(at(resp, 'remove'), i), m));
  return out;
}

/** validateAuthorityRewrite: the authority may be rewritten in one place only (rewrite.authority or a Host/:authority header). */
function authorityRewriteIssues(path: string, rewrite: HTTPRewrite | undefined, headers: Headers | undefined): Issue[] {
  let current = rewrite?.authority ?? '';
  for (const op of ['set', 'add'] as const) {
    for (const [k, v] of Object.entries(headers?.request?.[op] ?? {})) {
      if (!isAuthorityHeader(k)) continue;
      if (current !== '')
        return [error(at(at(at(at(path, 'headers'), 'request'), op), k), `authority header cannot be set multiple times: have ${goQuote(current)}, attempting to set ${goQuote(v)}`)];
      current = v;
    }
  }
  return [];
}

// ---------------------------------------------------------------------------------------------------------
// The rest of one HTTP route

function matchRequestIssues(path: string, matches: readonly HTTPMatchRequest[] | undefined): Issue[] {
  const out: Issue[] = [];
  for (const [j, m] of (matches ?? []).entries()) {
    const mp = at(path, j);
    for (const f of ['uri', 'scheme', 'method', 'authority'] as const) out.push(...stringMatchOneOf(at(mp, f), m[f]));
    for (const [name, sm] of Object.entries(m.headers ?? {})) {
      const p = at(at(mp, 'headers'), name);
      out.push(...stringMatchOneOf(p, sm));
      for (const e of headerNameOrJwtClaimErrors(name)) out.push(error(p, e));
      out.push(...stringMatchIssues(p, sm, 'headers'));
    }
    for (const [name, sm] of Object.entries(m.withoutHeaders ?? {})) {
      const p = at(at(mp, 'withoutHeaders'), name);
      out.push(...stringMatchOneOf(p, sm));
      for (const e of headerNameOrJwtClaimErrors(name)) out.push(error(p, e));
      // `regex: "*"` is not RE2: Istio translates it into a presence match.
      if (sm.regex !== '*') out.push(...stringMatchIssues(p, sm, 'withoutHeaders'));
    }
    // Envoy allows an empty URI prefix, but not an empty scheme/method/authority prefix.
    out.push(...stringMatchRegexpIssues(at(mp, 'uri'), m.uri, 'uri'));
    out.push(...stringMatchIssues(at(mp, 'scheme'), m.scheme, 'scheme'));
    out.push(...stringMatchIssues(at(mp, 'method'), m.method, 'method'));
    out.push(...stringMatchIssues(at(mp, 'authority'), m.authority, 'authority'));
    for (const [name, sm] of Object.entries(m.queryParams ?? {})) {
      const p = at(at(mp, 'queryParams'), name);
      out.push(...stringMatchOneOf(p, sm));
      out.push(...stringMatchIssues(p, sm, 'queryParams'));
    }
  }
  for (const [j, m] of (matches ?? []).entries()) {
    const mp = at(path, j);
    if ((m.port ?? 0) !== 0) out.push(...portIssues(at(mp, 'port'), m.port ?? 0));
    out.push(...sourceLabelsIssues(at(mp, 'sourceLabels'), m.sourceLabels));
    out.push(...gatewayNamesIssues(at(mp, 'gateways'), m.gateways, false, false));
    if ((m.sourceNamespace ?? '') !== '' && !isIstioDns1123Label(m.sourceNamespace ?? ''))
      out.push(error(at(mp, 'sourceNamespace'), `sourceNamespace match ${m.sourceNamespace ?? ''} is invalid`));
  }
  return out;
}

/** validateHTTPRouteConflict: exactly one action, and what each action excludes. */
function conflictIssues(path: string, h: HTTPRoute, routeType: 'independent' | 'root' | 'delegate'): Issue[] {
  const out: Issue[] = [];
  const hasRoute = (h.route?.length ?? 0) > 0;
  if (routeType === 'root') {
    if (h.redirect !== undefined) out.push(error(at(path, 'redirect'), `root HTTP route ${h.name ?? ''} must not specify redirect`));
    if (hasRoute) out.push(error(at(path, 'route'), `root HTTP route ${h.name ?? ''} must not specify route`));
    return out;
  }
  if (routeType === 'delegate' && h.delegate !== undefined) out.push(error(at(path, 'delegate'), 'delegate HTTP route cannot contain delegate'));
  if (h.redirect !== undefined) {
    if (hasRoute) out.push(error(path, 'HTTP route cannot contain both route and redirect'));
    if (h.fault !== undefined) out.push(error(path, 'HTTP route cannot contain both fault and redirect'));
    if (h.rewrite !== undefined) out.push(error(path, 'HTTP route rule cannot contain both rewrite and redirect'));
    if (h.directResponse !== undefined) out.push(error(path, 'HTTP route rule cannot contain both direct_response and redirect'));
  } else if (h.directResponse !== undefined) {
    if (hasRoute) out.push(error(path, 'HTTP route cannot contain both route and direct_response'));
    if (h.fault !== undefined) out.push(error(path, 'HTTP route cannot contain both fault and direct_response'));
    if (h.rewrite !== undefined) out.push(error(path, 'HTTP route rule cannot contain both rewrite and direct_response'));
  } else if (!hasRoute) {
    out.push(error(path, 'HTTP route, redirect or direct_response is required'));
  }
  if (h.mirror !== undefined && (h.mirrors?.length ?? 0) > 0) out.push(error(path, 'HTTP route cannot contain both mirror and mirrors'));
  return out;
}

function corsIssues(path: string, c: CorsPolicy | undefined): Issue[] {
  if (c === undefined) return [];
  const out: Issue[] = [];
  for (const [i, o] of (c.allowOrigins ?? []).entries()) {
    const p = at(at(path, 'allowOrigins'), i);
    out.push(...stringMatchOneOf(p, o));
    const match = o.exact ?? o.prefix ?? o.regex ?? '';
    // Istio prints the (empty) match value here, hence the odd message.
    if (match === '') out.push(error(p, `'' is not a valid match type for CORS allow origins`));
    else out.push(...stringMatchRegexpIssues(p, o, 'corsPolicy.allowOrigins'));
  }
  for (const [i, m] of (c.allowMethods ?? []).entries()) if (!CORS_METHODS.has(m)) out.push(error(at(at(path, 'allowMethods'), i), `${goQuote(m)} is not a supported HTTP method`));
  for (const f of ['allowHeaders', 'exposeHeaders'] as const) {
    for (const [i, name] of (c[f] ?? []).entries()) {
      const p = at(at(path, f), i);
      if (name === '') out.push(error(p, 'header name cannot be empty'));
      else if (name !== '*' && !HEADER_NAME.test(name)) out.push(error(p, `header name ${name} is not a valid header name`));
    }
  }
  if (c.maxAge !== undefined) {
    out.push(...durationIssues(at(path, 'maxAge'), c.maxAge));
    const d = parseGoDuration(c.maxAge);
    if (d.ok && d.ns % 1e9 !== 0) out.push(error(at(path, 'maxAge'), 'max_age duration is accurate only to seconds precision'));
  }
  return out;
}

/** Go's net/http methods, plus `*` (supportedCORSMethods). */
const CORS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', '*']);

/** grpc.SupportedGRPCStatus (pkg/util/grpc/codes.go). */
export const GRPC_STATUS_NAMES: readonly string[] = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED',
];

/** validatePercentage: 0, or within [0.0001, 100]. */
function percentageIssues(path: string, p: Percent | undefined): Issue[] {
  if (p === undefined) return [];
  const v = p.value ?? 0;
  return v < 0 || v > 100 || (v > 0 && v < 0.0001) ? [error(path, `percentage ${goFloatV(v)} is neither 0.0, nor in range [0.0001, 100.0]`)] : [];
}

/** validateHTTPStatus: Istio's bound is 600 inclusive although its message says 599. */
function httpStatusErrors(status: number): string[] {
  return status < 200 || status > 600 ? [`HTTP status ${status} is not in range 200-599`] : [];
}

function faultIssues(path: string, f: HTTPFaultInjection | undefined): Issue[] {
  if (f === undefined) return [];
  const out: Issue[] = [];
  if (f.abort === undefined && f.delay === undefined) out.push(error(path, 'HTTP fault injection must have an abort and/or a delay'));
  const a = f.abort;
  if (a !== undefined) {
    const ap = at(path, 'abort');
    out.push(...onlyOneOf(ap, a, ['httpStatus', 'grpcStatus', 'http2Error']));
    out.push(...percentageIssues(at(ap, 'percentage'), a.percentage));
    if (a.grpcStatus !== undefined) {
      if (!GRPC_STATUS_NAMES.includes(a.grpcStatus))
        out.push(
          error(
            at(ap, 'grpcStatus'),
            `gRPC status ${goQuote(a.grpcStatus)} is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'`,
          ),
        );
    } else if (a.http2Error !== undefined) out.push(error(at(ap, 'http2Error'), 'HTTP/2 abort fault injection not supported yet'));
    else if (a.httpStatus !== undefined) for (const m of httpStatusErrors(a.httpStatus)) out.push(error(at(ap, 'httpStatus'), m));
    // An abort without an error type is only a warning in validateHTTPFaultInjectionAbort, and
    // validateHTTPFaultInjection folds it with appendErrors, which drops warnings: Istio reports nothing.
  }
  const d = f.delay;
  if (d !== undefined) {
    const dp = at(path, 'delay');
    out.push(...onlyOneOf(dp, d, ['fixedDelay', 'exponentialDelay']));
    out.push(...percentageIssues(at(dp, 'percentage'), d.percentage));
    if (d.fixedDelay !== undefined) out.push(...durationIssues(at(dp, 'fixedDelay'), d.fixedDelay));
    else if (d.exponentialDelay !== undefined) {
      out.push(...durationIssues(at(dp, 'exponentialDelay'), d.exponentialDelay));
      out.push(error(at(dp, 'exponentialDelay'), 'exponentialDelay not supported yet'));
    }
  }
  return out;
}

function mirrorsIssues(path: string, mirrors: readonly HTTPMirrorPolicy[] | undefined): Issue[] {
  const out: Issue[] = [];
  for (const [i, m] of (mirrors ?? []).entries()) {
    const p = at(path, i);
    if (m.destination === undefined) {
      out.push(error(at(p, 'destination'), 'destination is required for mirrors'));
      continue;
    }
    out.push(...destinationIssues(at(p, 'destination'), m.destination));
    if (m.percentage !== undefined) {
      const v = m.percentage.value ?? 0;
      if (v > 100) out.push(error(at(p, 'percentage'), `mirror percentage must have a max value of 100 (it has ${goFloatF(v)})`));
      if (v < 0) out.push(error(at(p, 'percentage'), `mirror percentage must have a min value of 0 (it has ${goFloatF(v)})`));
    }
  }
  return out;
}

/** validateHTTPRedirect: Istio reports only the first problem. */
function redirectIssues(path: string, r: HTTPRedirect | undefined, matches: readonly HTTPMatchRequest[] | undefined): Issue[] {
  if (r === undefined) return [];
  const oneOf = onlyOneOf(path, r, ['port', 'derivePort']);
  const first = ((): Issue | undefined => {
    const uri = r.uri ?? '';
    const prefixRewrite = r.prefixRewrite ?? '';
    if (uri !== '' && prefixRewrite !== '') return error(path, 'redirect may only specify one of uri or prefix_rewrite');
    if (prefixRewrite !== '' && (matches ?? []).some((m) => m.uri !== undefined && m.uri.prefix === undefined))
      return error(at(path, 'prefixRewrite'), 'redirect prefix_rewrite requires all URI matches to use prefix match type');
    const hasPort = r.port !== undefined || r.derivePort !== undefined;
    if (uri === '' && prefixRewrite === '' && (r.authority ?? '') === '' && !hasPort && (r.scheme ?? '') === '')
      return error(path, 'redirect must specify URI, authority, scheme, or port');
    const code = r.redirectCode ?? 0;
    if (code !== 0 && (code < 300 || code > 399)) return error(at(path, 'redirectCode'), `${code} is not a valid redirect code, must be 3xx`);
    if ((r.scheme ?? '') !== '' && r.scheme !== 'http' && r.scheme !== 'https') return error(at(path, 'scheme'), 'invalid redirect scheme, must be "http" or "https"');
    if ((r.port ?? 0) > 0) return portIssues(at(path, 'port'), r.port ?? 0)[0];
    return undefined;
  })();
  return first === undefined ? oneOf : [...oneOf, first];
}

const KB = 1024;
const MB = 1024 * KB;

function directResponseIssues(path: string, d: HTTPDirectResponse | undefined): Issue[] {
  if (d === undefined) return [];
  const out: Issue[] = [];
  if (d.body !== undefined) {
    const bp = at(path, 'body');
    out.push(...onlyOneOf(bp, d.body, ['string', 'bytes']));
    const size = d.body.string !== undefined ? Buffer.byteLength(d.body.string, 'utf8') : d.body.bytes !== undefined ? Buffer.from(d.body.bytes, 'base64').length : 0;
    if (size > MB) out.push(error(bp, 'large direct_responses may impact control plane performance, must be less than 1MB'));
    else if (size > 100 * KB) out.push(warning(bp, 'large direct_responses may impact control plane performance'));
  }
  for (const m of httpStatusErrors(d.status ?? 0)) out.push(error(at(path, 'status'), m));
  return out;
}

/** Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies (agent/validation.go supportedRetryOnPolicies). */
export const RETRY_ON_POLICIES: ReadonlySet<string> = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

/** Codes for which Go's net/http StatusText is non-empty. */
const GO_HTTP_STATUS_CODES: ReadonlySet<number> = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425,
  426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** agent.ValidateHTTPRetry. The policy list is split on `,` without trimming spaces, as Istio does. */
export function retryIssues(path: string, r: HTTPRetry | undefined): Issue[] {
  if (r === undefined) return [];
  const out: Issue[] = [];
  const attempts = r.attempts ?? 0;
  if (attempts < 0) out.push(error(at(path, 'attempts'), 'attempts cannot be negative'));
  if (attempts === 0 && (r.perTryTimeout !== undefined || (r.retryOn ?? '') !== '' || r.retryRemoteLocalities !== undefined))
    out.push(error(path, 'http retry policy configured when attempts are set to 0 (disabled)'));
  out.push(...durationIssues(at(path, 'perTryTimeout'), r.perTryTimeout));
  if ((r.retryOn ?? '') !== '') {
    for (const policy of (r.retryOn ?? '').split(',')) {
      const code = isGoInt(policy) ? Number(policy) : 0;
      if (!GO_HTTP_STATUS_CODES.has(code) && !RETRY_ON_POLICIES.has(policy))
        out.push(error(at(path, 'retryOn'), `${goQuote(policy)} is not a valid retryOn policy`));
    }
  }
  out.push(...durationIssues(at(path, 'backoff'), r.backoff));
  return out;
}

function rewriteIssues(path: string, r: HTTPRewrite | undefined): Issue[] {
  if (r === undefined) return [];
  const uri = r.uri ?? '';
  if (uri !== '' && r.uriRegexRewrite !== undefined) return [error(path, 'rewrite may only contain one of URI or UriRegexRewrite')];
  if (uri === '' && r.uriRegexRewrite === undefined && (r.authority ?? '') === '')
    return [error(path, 'rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified')];
  const rr = r.uriRegexRewrite;
  if (rr === undefined) return [];
  const rp = at(path, 'uriRegexRewrite');
  // Istio joins these under "UriRegexRewrite has errors" (errors.Join, a newline); one line here.
  if ((rr.match ?? '') === '' || (rr.rewrite ?? '') === '')
    return [error(rp, 'UriRegexRewrite has errors: UriRegexRewrite requires both Rewrite and Match fields to be specified')];
  return stringRegexpIssues(at(rp, 'match'), rr.match ?? '', 'HTTPRewrite.UriRegexRewrite.Match').map((i) => ({
    ...i,
    message: `UriRegexRewrite has errors: ${i.message}`,
  }));
}

export interface HttpRouteOptions {
  /** The VirtualService has no hosts: it is a delegate, so its routes may not delegate again. */
  readonly delegate: boolean;
  /** `internal.istio.io/route-semantics: gateway` (Gateway API generated config). */
  readonly gatewaySemantics: boolean;
}

/** validateHTTPRoute: every problem of one HTTP route at `path` (e.g. `spec.http[0]`). */
export function httpRouteIssues(path: string, h: HTTPRoute, opts: HttpRouteOptions): Issue[] {
  const routeType = opts.delegate ? 'delegate' : h.delegate !== undefined ? 'root' : 'independent';
  const out: Issue[] = [];
  out.push(...conflictIssues(path, h, routeType));
  out.push(...matchRequestIssues(at(path, 'match'), h.match));
  out.push(...headersIssues(at(path, 'headers'), h.headers));
  out.push(...corsIssues(at(path, 'corsPolicy'), h.corsPolicy));
  out.push(...faultIssues(at(path, 'fault'), h.fault));
  if (h.mirrorPercent !== undefined) {
    if (h.mirrorPercent > 100) out.push(error(at(path, 'mirrorPercent'), `mirror_percent must have a max value of 100 (it has ${h.mirrorPercent})`));
    out.push(warning(at(path, 'mirrorPercent'), 'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead'));
  }
  if (h.mirrorPercentage !== undefined) {
    const v = h.mirrorPercentage.value ?? 0;
    const p = at(path, 'mirrorPercentage');
    if (v > 100) out.push(error(p, `mirror_percentage must have a max value of 100 (it has ${goFloatF(v)})`));
    if (v < 0) out.push(error(p, `mirror_percentage must have a min value of 0 (it has ${goFloatF(v)})`));
  }
  out.push(...destinationIssues(at(path, 'mirror'), h.mirror));
  out.push(...mirrorsIssues(at(path, 'mirrors'), h.mirrors));
  out.push(...redirectIssues(at(path, 'redirect'), h.redirect, h.match));
  out.push(...directResponseIssues(at(path, 'directResponse'), h.directResponse));
  out.push(...retryIssues(at(path, 'retries'), h.retries));
  out.push(...rewriteIssues(at(path, 'rewrite'), h.rewrite));
  out.push(...authorityRewriteIssues(path, h.rewrite, h.headers));
  out.push(...routeDestinationIssues(at(path, 'route'), h.route, opts.gatewaySemantics));
  for (const [i, r] of (h.route ?? []).entries()) out.push(...headersIssues(at(at(at(path, 'route'), i), 'headers'), r.headers));
  out.push(...durationIssues(at(path, 'timeout'), h.timeout));
  return out;
}
