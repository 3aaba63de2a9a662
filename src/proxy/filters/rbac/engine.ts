// The RBAC engine (envoy.config.rbac.v3.RBAC): compiled once into immutable matcher trees, evaluated per
// request or connection without allocating beyond one small header view. Pure: no I/O, clock or stats;
// the HTTP filter (filter.ts) and `isthmus x authz eval` both build on evaluateRbac.
//
// Semantics follow Envoy (source/extensions/filters/common/rbac/engine_impl.cc and matchers.cc):
// - policies are tried in lexicographic order of their names (the proto's documented order); the first
//   whose permissions match (ANY of them) and whose principals match (ANY of them) is the matched policy;
// - ALLOW: allowed iff a policy matched (no policies: everything denied); DENY: allowed iff none matched
//   (no policies: everything allowed); LOG: always allowed, matchedPolicy says whether it would be logged;
// - header rules use the route table's HeaderMatcher (values of one name joined with ','; pseudo-headers
//   :method, :path, :authority from the request); url_path is a StringMatcher on the path without query
//   and fragment; destination_ip/port are the downstream local address; source_ip and direct_remote_ip
//   the peer address; remote_ip the address the connection manager trusts (x-forwarded-for aware);
//   requested_server_name the SNI ('' when none);
// - authenticated: never on a plaintext connection; with no principal_name any TLS connection; otherwise
//   the matcher is tried on every URI SAN, then every DNS SAN, then the subject of the peer certificate.
// - Without HTTP facts (network RBAC, `headers` absent) the header map is empty, as Envoy's network filter
//   passes one: value matchers fail, but `present_match: false` or an inverted presence check match;
//   url_path never matches without a path.
// Unsupported shapes are compile problems so the update is NACKed instead of evaluated wrongly:
// matcher extensions, filter_state principals and CEL conditions. uri_template uses the route matcher's parser.

import type { Permission, Policy, Principal, RBAC } from '../../../xds/gen/envoy/config/rbac/v3/rbac_pb.js';
import { RBAC_Action } from '../../../xds/gen/envoy/config/rbac/v3/rbac_pb.js';
import type { PathMatcher } from '../../../xds/gen/envoy/type/matcher/v3/path_pb.js';
import { compileHeaderMatcher } from '../../http/route/header-matcher.js';
import type { HeaderSource } from '../../http/route/request-view.js';
import { pathEnd } from '../../http/route/request-view.js';
import { compileStringMatcher, type StringPredicate } from '../../http/route/string-matcher.js';
import { decodeTemplateAny, parseUriTemplate, URI_TEMPLATE_MATCH_TYPE } from '../../http/route/uri-template.js';
import { compileCidr } from './cidr.js';
import { compileMetadataMatcher } from './metadata-matcher.js';

export type RbacActionName = 'ALLOW' | 'DENY' | 'LOG';

/** The peer certificate of a TLS connection (empty lists and subject when the client sent none). */
export interface RbacTls {
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  readonly subject: string;
}

/**
 * What RBAC looks at. method/path/host/headers are absent for TCP (network RBAC): header rules then see an
 * empty header map and url_path never matches. `headers` takes lower-case names and answers every value
 * of the name joined by ','; :method, :path and :authority come from the fields above.
 */
export interface RbacRequest {
  readonly method?: string | undefined;
  /** :path with the query. */
  readonly path?: string | undefined;
  /** :authority. */
  readonly host?: string | undefined;
  readonly headers?: ((name: string) => string | undefined) | undefined;
  /** The peer's address on the connection (direct_remote_ip, source_ip). */
  readonly directRemoteIp: string;
  /** The trusted client address (remote_ip): x-forwarded-for aware, as the connection manager computes it. */
  readonly remoteIp: string;
  readonly sourcePort: number;
  /** The downstream local address (destination_ip, destination_port). */
  readonly destinationIp: string;
  readonly destinationPort: number;
  /** Present iff the downstream connection is TLS. */
  readonly tls?: RbacTls | undefined;
  /** Requested server name (SNI), '' when none. */
  readonly sni: string;
  /** Dynamic metadata by filter name (Struct as object, ListValue as array). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface RbacDecision {
  readonly allowed: boolean;
  /** The first matching policy in name order; absent when none matched. */
  readonly matchedPolicy?: string;
  readonly action: RbacActionName;
}

export interface CompiledRbac {
  readonly action: RbacActionName;
  /** Policy names in evaluation order. */
  readonly policyNames: readonly string[];
  /** @internal */
  readonly policies: readonly CompiledPolicy[];
}

interface CompiledPolicy {
  readonly name: string;
  readonly permissions: readonly Matcher[];
  readonly principals: readonly Matcher[];
}

/** The request plus a header view answering pseudo-headers from its fields. */
class EvalContext implements HeaderSource {
  constructor(readonly req: RbacRequest) {}

  header(name: string): string | undefined {
    const r = this.req;
    switch (name) {
      case ':method':
        return r.method;
      case ':path':
        return r.path;
      case ':authority':
      case 'host':
        return r.host;
      default:
        return r.headers?.(name);
    }
  }
}

type Matcher = (c: EvalContext) => boolean;

const ALWAYS: Matcher = () => true;
const NEVER: Matcher = () => false;

export type RbacCompileResult = { readonly ok: true; readonly value: CompiledRbac } | { readonly ok: false; readonly problems: string[] };

const ACTIONS: Readonly<Record<number, RbacActionName>> = { [RBAC_Action.ALLOW]: 'ALLOW', [RBAC_Action.DENY]: 'DENY', [RBAC_Action.LOG]: 'LOG' };

/** Compiles an RBAC message; every problem names its field, prefixed with `path`. */
export function compileRbac(config: RBAC, path: string): RbacCompileResult {
  const problems: string[] = [];
  const action = ACTIONS[config.action];
  if (action === undefined) problems.push(`${path}.action: value must be one of the defined enum values (got ${config.action})`);
  // Envoy keeps policies in a std::map: byte-wise name order (code-unit order is the same for ASCII names).
  const names = Object.keys(config.policies).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const policies = names.map((name) => compilePolicy(name, config.policies[name] as Policy, `${path}.policies[${JSON.stringify(name)}]`, problems));
  if (problems.length > 0 || action === undefined) return { ok: false, problems };
  return { ok: true, value: Object.freeze({ action, policyNames: Object.freeze(names), policies: Object.freeze(policies) }) };
}

function compilePolicy(name: string, p: Policy, path: string, problems: string[]): CompiledPolicy {
  if (p.permissions.length === 0) problems.push(`${path}.permissions: value must contain at least 1 item(s)`);
  if (p.principals.length === 0) problems.push(`${path}.principals: value must contain at least 1 item(s)`);
  if (p.condition !== undefined || p.checkedCondition !== undefined) problems.push(`${path}.condition: CEL conditions are not supported`);
  return Object.freeze({
    name,
    permissions: Object.freeze(p.permissions.map((x, i) => compilePermission(x, `${path}.permissions[${i}]`, problems))),
    principals: Object.freeze(p.principals.map((x, i) => compilePrincipal(x, `${path}.principals[${i}]`, problems))),
  });
}

function all(ms: readonly Matcher[]): Matcher {
  if (ms.length === 1) return ms[0] as Matcher;
  return (c) => {
    for (let i = 0; i < ms.length; i++) if (!(ms[i] as Matcher)(c)) return false;
    return true;
  };
}

function some(ms: readonly Matcher[]): Matcher {
  if (ms.length === 1) return ms[0] as Matcher;
  return (c) => {
    for (let i = 0; i < ms.length; i++) if ((ms[i] as Matcher)(c)) return true;
    return false;
  };
}

function stringOn(sm: StringPredicate, get: (c: EvalContext) => string): Matcher {
  return (c) => sm(get(c));
}

function pathMatcher(m: PathMatcher, path: string, problems: string[]): Matcher {
  if (m.rule.case !== 'path') {
    problems.push(`${path}.path: value is required`);
    return NEVER;
  }
  const sm = compileStringMatcher(m.rule.value, `${path}.path`, problems);
  return (c) => {
    const p = c.req.path;
    if (p === undefined) return false;
    const end = pathEnd(p);
    return sm(end === p.length ? p : p.slice(0, end));
  };
}

function headerMatcher(m: Parameters<typeof compileHeaderMatcher>[0], path: string, problems: string[]): Matcher {
  const h = compileHeaderMatcher(m, path, problems);
  return (c) => h.matches(c);
}

function compilePermission(p: Permission, path: string, problems: string[]): Matcher {
  const r = p.rule;
  switch (r.case) {
    case 'andRules':
    case 'orRules': {
      const field = r.case === 'andRules' ? 'and_rules' : 'or_rules';
      if (r.value.rules.length === 0) problems.push(`${path}.${field}.rules: value must contain at least 1 item(s)`);
      const ms = r.value.rules.map((x, i) => compilePermission(x, `${path}.${field}.rules[${i}]`, problems));
      return r.case === 'andRules' ? all(ms) : some(ms);
    }
    case 'any':
      if (!r.value) problems.push(`${path}.any: value must equal true`);
      return ALWAYS;
    case 'header':
      return headerMatcher(r.value, `${path}.header`, problems);
    case 'urlPath':
      return pathMatcher(r.value, `${path}.url_path`, problems);
    case 'destinationIp': {
      const ip = compileCidr(r.value, `${path}.destination_ip`, problems);
      return (c) => ip(c.req.destinationIp);
    }
    case 'destinationPort': {
      const port = r.value;
      if (port > 65535) problems.push(`${path}.destination_port: value must be less than or equal to 65535`);
      return (c) => c.req.destinationPort === port;
    }
    case 'destinationPortRange': {
      // PortRangeMatcher: [start, end), both within 0..65536, start < end.
      const { start, end } = r.value;
      const fp = `${path}.destination_port_range`;
      if (start < 0 || start > 65536) problems.push(`${fp}.start: range start ${start} is out of bounds`);
      if (end < 0 || end > 65536) problems.push(`${fp}.end: range end ${end} is out of bounds`);
      if (start >= end) problems.push(`${fp}: range start ${start} cannot be greater or equal than range end ${end}`);
      return (c) => c.req.destinationPort >= start && c.req.destinationPort < end;
    }
    case 'metadata': {
      const md = compileMetadataMatcher(r.value, `${path}.metadata`, problems);
      return (c) => md(c.req.metadata);
    }
    case 'notRule': {
      const m = compilePermission(r.value, `${path}.not_rule`, problems);
      return (c) => !m(c);
    }
    case 'requestedServerName':
      return stringOn(compileStringMatcher(r.value, `${path}.requested_server_name`, problems), (c) => c.req.sni);
    case 'uriTemplate': {
      // envoy.path.match.uri_template on the path without its query (Istio's `{*}` / `{**}` policy paths).
      const cfg = r.value.typedConfig;
      const decoded = cfg !== undefined ? decodeTemplateAny(cfg, URI_TEMPLATE_MATCH_TYPE) : { ok: false as const, reason: 'typed_config is required' };
      if (!decoded.ok) {
        problems.push(`${path}.uri_template: ${decoded.reason}`);
        return NEVER;
      }
      const t = parseUriTemplate(decoded.value);
      if (typeof t === 'string') {
        problems.push(`${path}.uri_template.path_template: ${JSON.stringify(decoded.value)}: ${t}`);
        return NEVER;
      }
      return (c) => {
        const p = c.req.path;
        if (p === undefined) return false;
        const end = pathEnd(p);
        return t.exec(end === p.length ? p : p.slice(0, end)) !== null;
      };
    }
    case 'matcher':
      problems.push(`${path}.matcher: matcher extensions are not supported`);
      return NEVER;
    case undefined:
      problems.push(`${path}.rule: value is required`);
      return NEVER;
  }
}

function compilePrincipal(p: Principal, path: string, problems: string[]): Matcher {
  const id = p.identifier;
  switch (id.case) {
    case 'andIds':
    case 'orIds': {
      const field = id.case === 'andIds' ? 'and_ids' : 'or_ids';
      if (id.value.ids.length === 0) problems.push(`${path}.${field}.ids: value must contain at least 1 item(s)`);
      const ms = id.value.ids.map((x, i) => compilePrincipal(x, `${path}.${field}.ids[${i}]`, problems));
      return id.case === 'andIds' ? all(ms) : some(ms);
    }
    case 'any':
      if (!id.value) problems.push(`${path}.any: value must equal true`);
      return ALWAYS;
    case 'authenticated': {
      const pn = id.value.principalName;
      if (pn === undefined) return (c) => c.req.tls !== undefined;
      const sm = compileStringMatcher(pn, `${path}.authenticated.principal_name`, problems);
      return (c) => {
        const t = c.req.tls;
        if (t === undefined) return false;
        for (let i = 0; i < t.uriSans.length; i++) if (sm(t.uriSans[i] as string)) return true;
        for (let i = 0; i < t.dnsSans.length; i++) if (sm(t.dnsSans[i] as string)) return true;
        return sm(t.subject);
      };
    }
    case 'sourceIp':
    case 'directRemoteIp': {
      const ip = compileCidr(id.value, `${path}.${id.case === 'sourceIp' ? 'source_ip' : 'direct_remote_ip'}`, problems);
      return (c) => ip(c.req.directRemoteIp);
    }
    case 'remoteIp': {
      const ip = compileCidr(id.value, `${path}.remote_ip`, problems);
      return (c) => ip(c.req.remoteIp);
    }
    case 'header':
      return headerMatcher(id.value, `${path}.header`, problems);
    case 'urlPath':
      return pathMatcher(id.value, `${path}.url_path`, problems);
    case 'metadata': {
      const md = compileMetadataMatcher(id.value, `${path}.metadata`, problems);
      return (c) => md(c.req.metadata);
    }
    case 'notId': {
      const m = compilePrincipal(id.value, `${path}.not_id`, problems);
      return (c) => !m(c);
    }
    case 'filterState':
      problems.push(`${path}.filter_state: not supported`);
      return NEVER;
    case undefined:
      problems.push(`${path}.identifier: value is required`);
      return NEVER;
  }
}

function matches(ms: readonly Matcher[], c: EvalContext): boolean {
  for (let i = 0; i < ms.length; i++) if ((ms[i] as Matcher)(c)) return true;
  return false;
}

/** The first policy (in name order) whose permissions and principals both match, or undefined. */
export function matchingPolicy(c: CompiledRbac, req: RbacRequest): string | undefined {
  const ctx = new EvalContext(req);
  const ps = c.policies;
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i] as CompiledPolicy;
    if (matches(p.permissions, ctx) && matches(p.principals, ctx)) return p.name;
  }
  return undefined;
}

/** Envoy's RoleBasedAccessControlEngineImpl::handleAction: the decision for one request. */
export function evaluateRbac(c: CompiledRbac, req: RbacRequest): RbacDecision {
  const matched = matchingPolicy(c, req);
  const allowed = c.action === 'ALLOW' ? matched !== undefined : c.action === 'DENY' ? matched === undefined : true;
  return matched === undefined ? { allowed, action: c.action } : { allowed, matchedPolicy: matched, action: c.action };
}
