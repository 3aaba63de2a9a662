// compileRouteConfig: an xDS RouteConfiguration compiled once into an immutable route table, and the
// table's select(): virtual host by :authority, then the first route whose match holds, then what that
// route's action needs (cluster, rewritten path and host, redirect Location, direct response).
// Nothing throws: everything this table cannot honour is a problem `<field path>: <reason>` and the
// whole configuration is refused, so the proxy NACKs it and keeps its last good table.
// Envoy: source/common/router/config_impl.cc (ConfigImpl, RouteMatcher, VirtualHostImpl, RouteEntryImplBase).
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/http_routing

import { VirtualHost_TlsRequirementType as Tls, type VirtualHost, type Route, type RouteAction } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { RouteConfiguration } from '../../../xds/gen/envoy/config/route/v3/route_pb.js';
import type { Random } from '../../lib/random.js';
import { asciiLower } from './ascii.js';
import { compileClusterSpecifier, pickWeighted, type ClusterSpecifier, type PluginTable } from './cluster-specifier.js';
import { compileHeaderMutationLevel } from './header-mutation.js';
import { compileRedirect, needsTls, sslRedirectLocation, type CompiledRedirect } from './redirect.js';
import { RequestView } from './request-view.js';
import { compileRetryPolicy } from './retry-policy.js';
import { compileMirrorPolicies, compileRouteActionPolicy, type InheritedPolicies } from './route-action.js';
import { compileRouteMatch, type CompiledRouteMatch } from './route-match.js';
import { applyHostRewrite, applyPathRewrite, compileHostRewrite, compileRoutePathRewrite, type HostRewrite, type PathRewrite } from './rewrite.js';
import { DirectResponseSelectionImpl, EMPTY_LEVEL, ForwardSelectionImpl, RedirectSelectionImpl, Target, type LevelConfig } from './selection.js';
import { buildVirtualHostIndex, type VirtualHostIndex } from './virtual-host-index.js';
import type { CompileResult, CompiledRouteConfig, CorsSource, RouteActionPolicy, RouteInfo, RouteInput, RouteSelection, VirtualHostInfo } from './types.js';
import { isStatefulSessionPerRoute, perRouteStatefulSession } from '../../filters/stateful-session/config.js';
import { compileHeaderMatchers } from './header-matcher.js';

const DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES = 4096;

interface CompiledRoute {
  readonly match: CompiledRouteMatch;
  /** undefined: the route yields nothing after all (an optional cluster specifier plugin); matching goes on. */
  select(req: RequestView): RouteSelection | undefined;
}

interface CompiledVirtualHost {
  readonly routes: readonly CompiledRoute[];
  readonly requireTls: Tls;
  /** For require_tls redirects: the virtual host with no route-level configuration. */
  readonly tlsTarget: Target;
}

/** What every route of a virtual host shares while compiling. */
interface VirtualHostScope {
  readonly info: VirtualHostInfo;
  readonly config: LevelConfig;
  readonly vhost: LevelConfig;
  readonly mostSpecificWins: boolean;
  readonly inherited: InheritedPolicies;
  readonly legacyCors: CorsSource | undefined;
  readonly plugins: PluginTable;
  readonly maxBodyBytes: number;
}

function level(
  holder: {
    requestHeadersToAdd: Route['requestHeadersToAdd'];
    requestHeadersToRemove: string[];
    responseHeadersToAdd: Route['responseHeadersToAdd'];
    responseHeadersToRemove: string[];
    typedPerFilterConfig: Route['typedPerFilterConfig'];
  },
  path: string,
  problems: string[],
): LevelConfig {
  const at = (f: string): string => (path === '' ? f : `${path}.${f}`);
  // A per-filter config of a kind this proxy compiles is checked here, so a bad one refuses the update (Envoy
  // builds every route's per-filter configs when it accepts RDS); the request path reuses the compiled one.
  for (const [name, a] of Object.entries(holder.typedPerFilterConfig)) {
    if (!isStatefulSessionPerRoute(a)) continue;
    const r = perRouteStatefulSession(a, at(`typed_per_filter_config[${name}]`));
    if (!r.ok) problems.push(...r.problems);
  }
  return Object.freeze({
    request: compileHeaderMutationLevel(holder.requestHeadersToAdd, holder.requestHeadersToRemove, at('request_headers_to_add'), at('request_headers_to_remove'), problems),
    response: compileHeaderMutationLevel(holder.responseHeadersToAdd, holder.responseHeadersToRemove, at('response_headers_to_add'), at('response_headers_to_remove'), problems),
    typedPerFilterConfig: Object.freeze({ ...holder.typedPerFilterConfig }),
  });
}

interface ForwardEntry {
  readonly cluster: string;
  readonly clusterHeader: string;
  readonly hostLiteral: string | undefined;
  readonly target: Target;
  /** Handed out as is when nothing about the request changes the answer. */
  readonly fixed: ForwardSelectionImpl | undefined;
}

class ForwardRoute implements CompiledRoute {
  constructor(
    readonly match: CompiledRouteMatch,
    private readonly spec: ClusterSpecifier,
    private readonly entries: readonly ForwardEntry[],
    private readonly policy: RouteActionPolicy,
    private readonly pathRewrite: PathRewrite | undefined,
    private readonly hostRewrite: HostRewrite | undefined,
  ) {}

  select(req: RequestView): RouteSelection | undefined {
    const spec = this.spec;
    const index = spec.kind === 'single' ? 0 : spec.kind === 'weighted' ? pickWeighted(spec.choices, spec.total, spec.randomValueHeader, req) : -1;
    const e = this.entries[index];
    if (e === undefined) return undefined;
    if (e.fixed !== undefined) return e.fixed;
    const path = this.pathRewrite === undefined ? undefined : applyPathRewrite(this.pathRewrite, req, this.match.matchedLength);
    const host = (this.hostRewrite === undefined ? undefined : applyHostRewrite(this.hostRewrite, req)) ?? e.hostLiteral;
    let cluster = e.cluster;
    if (e.clusterHeader !== '') {
      const v = req.input.headers[e.clusterHeader];
      cluster = (typeof v === 'string' ? v : v?.[0]) ?? '';
    }
    return new ForwardSelectionImpl(e.target, cluster, path, host, this.policy);
  }
}

class RedirectRoute implements CompiledRoute {
  constructor(
    readonly match: CompiledRouteMatch,
    private readonly redirect: CompiledRedirect,
    private readonly target: Target,
  ) {}

  select(req: RequestView): RouteSelection {
    return new RedirectSelectionImpl(this.target, this.redirect.status, this.redirect.location(req, this.match.matchedLength));
  }
}

class FixedRoute implements CompiledRoute {
  constructor(
    readonly match: CompiledRouteMatch,
    private readonly selection: RouteSelection,
  ) {}

  select(): RouteSelection {
    return this.selection;
  }
}

function compileForward(a: RouteAction, match: CompiledRouteMatch, info: RouteInfo, routeLevel: LevelConfig, scope: VirtualHostScope, path: string, problems: string[], bufferLimit: number | undefined): CompiledRoute {
  const spec = compileClusterSpecifier(a, scope.plugins, path, problems);
  const policy = compileRouteActionPolicy(a, scope.inherited, path, problems, bufferLimit);
  const pathRewrite = compileRoutePathRewrite(a, match, path, problems);
  const hostRewrite = compileHostRewrite(a, path, problems);
  const legacyCors: CorsSource | undefined = a.cors !== undefined ? Object.freeze({ kind: 'legacy', policy: a.cors }) : scope.legacyCors;
  const choices = spec.kind === 'single' ? [spec.choice] : spec.kind === 'weighted' ? spec.choices : [];
  const entries = choices.map((c): ForwardEntry => {
    const target = Target.build(scope.info, info, { config: scope.config, vhost: scope.vhost, route: routeLevel, cluster: c.level }, scope.mostSpecificWins, legacyCors);
    // A weighted cluster's literal applies first; a route-level literal replaces it.
    const hostLiteral = hostRewrite?.kind === 'literal' ? hostRewrite.value : c.hostRewriteLiteral !== '' ? c.hostRewriteLiteral : undefined;
    const fixed = pathRewrite === undefined && (hostRewrite === undefined || hostRewrite.kind === 'literal') && c.clusterHeader === '' ? new ForwardSelectionImpl(target, c.cluster, undefined, hostLiteral, policy) : undefined;
    return Object.freeze({ cluster: c.cluster, clusterHeader: c.clusterHeader, hostLiteral, target, fixed });
  });
  return new ForwardRoute(match, spec, Object.freeze(entries), policy, pathRewrite, hostRewrite?.kind === 'literal' ? undefined : hostRewrite);
}

function compileRoute(r: Route, scope: VirtualHostScope, path: string, problems: string[]): CompiledRoute | undefined {
  const match = compileRouteMatch(r.match, `${path}.match`, problems);
  const info: RouteInfo = Object.freeze({ name: r.name, statPrefix: r.statPrefix, metadata: r.metadata, decorator: r.decorator });
  const routeLevel = level(r, path, problems);
  const target = (): Target => Target.build(scope.info, info, { config: scope.config, vhost: scope.vhost, route: routeLevel, cluster: EMPTY_LEVEL }, scope.mostSpecificWins, scope.legacyCors);
  const action = r.action;
  switch (action.case) {
    case 'route':
      return compileForward(action.value, match, info, routeLevel, scope, `${path}.route`, problems, r.perRequestBufferLimitBytes);
    case 'redirect':
      return new RedirectRoute(match, compileRedirect(action.value, `${path}.redirect`, problems), target());
    case 'directResponse': {
      const d = action.value;
      const at = `${path}.direct_response`;
      if (d.status < 200 || d.status >= 600) problems.push(`${at}.status: must be in [200, 600) (got ${d.status})`);
      let body: Uint8Array | undefined;
      const s = d.body?.specifier;
      if (s?.case === 'inlineString') body = new TextEncoder().encode(s.value);
      else if (s?.case === 'inlineBytes') body = s.value;
      else if (s?.case === 'filename' || s?.case === 'environmentVariable') problems.push(`${at}.body.${s.case === 'filename' ? 'filename' : 'environment_variable'}: only inline bodies are supported`);
      if (body !== undefined && body.length > scope.maxBodyBytes) problems.push(`${at}.body: response body size is ${body.length} bytes; maximum is ${scope.maxBodyBytes}`);
      return new FixedRoute(match, new DirectResponseSelectionImpl(target(), d.status, body));
    }
    case 'filterAction':
      problems.push(`${path}.filter_action: not supported`);
      return undefined;
    case 'nonForwardingAction':
      problems.push(`${path}.non_forwarding_action: not supported by this proxy`);
      return undefined;
    case undefined:
      problems.push(`${path}: one of route, redirect or direct_response must be set`);
      return undefined;
  }
}

interface ConfigScope {
  readonly config: LevelConfig;
  readonly mostSpecificWins: boolean;
  readonly mirrorPolicies: InheritedPolicies['mirrorPolicies'];
  readonly plugins: PluginTable;
  readonly maxBodyBytes: number;
}

function compileVirtualHost(vh: VirtualHost, cs: ConfigScope, path: string, problems: string[]): CompiledVirtualHost {
  if (vh.name === '') problems.push(`${path}.name: value length must be at least 1 characters`);
  if (vh.matcher !== undefined) problems.push(`${path}.matcher: the matcher tree is not supported; use routes`);
  if (vh.retryPolicyTypedConfig !== undefined) problems.push(`${path}.retry_policy_typed_config: retry policy extensions are not supported`);
  if (vh.hedgePolicy?.hedgeOnPerTryTimeout === true) problems.push(`${path}.hedge_policy.hedge_on_per_try_timeout: request hedging is not supported`);
  const info: VirtualHostInfo = Object.freeze({
    name: vh.name,
    virtualClusters: Object.freeze(
      vh.virtualClusters.map((v, i) => {
        const at = `${path}.virtual_clusters[${i}]`;
        if (v.name === '') problems.push(`${at}.name: value length must be at least 1 characters`);
        return Object.freeze({ name: v.name, headers: compileHeaderMatchers(v.headers, `${at}.headers`, problems) });
      }),
    ),
    includeRequestAttemptCount: vh.includeRequestAttemptCount,
    includeAttemptCountInResponse: vh.includeAttemptCountInResponse,
    includeIsTimeoutRetryHeader: vh.includeIsTimeoutRetryHeader,
    metadata: vh.metadata,
  });
  const own = compileMirrorPolicies(vh.requestMirrorPolicies, `${path}.request_mirror_policies`, problems);
  const scope: VirtualHostScope = {
    info,
    config: cs.config,
    vhost: level(vh, path, problems),
    mostSpecificWins: cs.mostSpecificWins,
    inherited: {
      retryPolicy: vh.retryPolicy !== undefined ? compileRetryPolicy(vh.retryPolicy, `${path}.retry_policy`, problems) : undefined,
      mirrorPolicies: own.length > 0 ? own : cs.mirrorPolicies,
      bufferLimit: vh.perRequestBufferLimitBytes,
    },
    legacyCors: vh.cors !== undefined ? Object.freeze({ kind: 'legacy', policy: vh.cors }) : undefined,
    plugins: cs.plugins,
    maxBodyBytes: cs.maxBodyBytes,
  };
  const routes: CompiledRoute[] = [];
  vh.routes.forEach((r, i) => {
    const c = compileRoute(r, scope, `${path}.routes[${i}]`, problems);
    if (c !== undefined) routes.push(c);
  });
  const tlsInfo: RouteInfo = Object.freeze({ name: '', statPrefix: '', metadata: undefined, decorator: undefined });
  const tlsTarget = Target.build(info, tlsInfo, { config: EMPTY_LEVEL, vhost: EMPTY_LEVEL, route: EMPTY_LEVEL, cluster: EMPTY_LEVEL }, false, undefined);
  return Object.freeze({ routes: Object.freeze(routes), requireTls: vh.requireTls, tlsTarget });
}

class RouteTable implements CompiledRouteConfig {
  readonly #view = new RequestView();

  constructor(
    readonly name: string,
    readonly internalOnlyHeaders: readonly string[],
    private readonly index: VirtualHostIndex<CompiledVirtualHost>,
    private readonly ignorePathParameters: boolean,
  ) {}

  select(input: RouteInput, random: Random): RouteSelection | undefined {
    const vh = this.index.find(input.authority);
    if (vh === undefined) return undefined;
    if (vh.requireTls !== Tls.NONE && needsTls(input, vh.requireTls === Tls.EXTERNAL_ONLY)) {
      return new RedirectSelectionImpl(vh.tlsTarget, 301, sslRedirectLocation(input));
    }
    const req = this.#view;
    req.reset(input, random, this.ignorePathParameters);
    try {
      for (const r of vh.routes) {
        if (!r.match.matches(req)) continue;
        const s = r.select(req);
        if (s !== undefined) return s;
      }
      return undefined;
    } finally {
      req.clear();
    }
  }
}

/** Compiles a RouteConfiguration; every problem found is reported, none is thrown. */
export function compileRouteConfig(rc: RouteConfiguration): CompileResult<CompiledRouteConfig> {
  const problems: string[] = [];
  if (rc.vhds !== undefined) problems.push('vhds: virtual host discovery is not supported');
  const plugins = new Map<string, boolean>();
  rc.clusterSpecifierPlugins.forEach((p, i) => {
    const name = p.extension?.name ?? '';
    if (!p.isOptional) problems.push(`cluster_specifier_plugins[${i}]: unsupported cluster specifier plugin ${JSON.stringify(name)}`);
    plugins.set(name, p.isOptional);
  });
  const cs: ConfigScope = {
    config: level(rc, '', problems),
    mostSpecificWins: rc.mostSpecificHeaderMutationsWins,
    mirrorPolicies: compileMirrorPolicies(rc.requestMirrorPolicies, 'request_mirror_policies', problems),
    plugins,
    maxBodyBytes: rc.maxDirectResponseBodySizeBytes ?? DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES,
  };
  const vhosts = rc.virtualHosts.map((vh, i) => ({ domains: vh.domains, value: compileVirtualHost(vh, cs, `virtual_hosts[${i}]`, problems) }));
  const index = buildVirtualHostIndex(vhosts, rc.ignorePortInHostMatching, 'virtual_hosts', problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: new RouteTable(rc.name, Object.freeze(rc.internalOnlyHeaders.map(asciiLower)), index, rc.ignorePathParametersInPathMatching) };
}
