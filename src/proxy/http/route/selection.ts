// What select() returns. A Target is everything a selection shares with every request that picks the
// same route (and weighted cluster): the merged typed_per_filter_config, the CORS source and the header
// mutation plans, all built at compile time. Static forwarding routes and direct responses hand out one
// preallocated selection; rewrites, header-named clusters and redirects build one small object.
//
// Header mutation order (RouteEntryImplBase::getHeaderParsers and WeightedClusterEntry): a weighted
// cluster's own mutations are applied first; then, by default, route, virtual host, route configuration
// ("evaluated from most to least specific", so the least specific level is applied last and wins an
// overwrite); with most_specific_header_mutations_wins the order is route configuration, virtual host,
// route. typed_per_filter_config: the most specific wins (weighted cluster, route, virtual host, route
// configuration), Envoy's mostSpecificPerFilterConfig.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route.proto#envoy-v3-api-field-config-route-v3-routeconfiguration-most-specific-header-mutations-wins

import type { Any } from '@bufbuild/protobuf/wkt';
import { applyHeaderMutations, type HeaderMutationLevel, type HeaderMutationPlan } from './header-mutation.js';
import type {
  CorsSource,
  DirectResponseSelection,
  ForwardSelection,
  HeaderFormatContext,
  HeaderMap,
  RedirectSelection,
  RouteActionPolicy,
  RouteInfo,
  SelectionCommon,
  VirtualHostInfo,
} from './types.js';

export const CORS_FILTER = 'envoy.filters.http.cors';

/** One level's share of a target: its mutations and typed_per_filter_config. */
export interface LevelConfig {
  readonly request: HeaderMutationLevel | undefined;
  readonly response: HeaderMutationLevel | undefined;
  readonly typedPerFilterConfig: { readonly [name: string]: Any };
}

export const EMPTY_LEVEL: LevelConfig = Object.freeze({ request: undefined, response: undefined, typedPerFilterConfig: Object.freeze({}) });

export class Target {
  private constructor(
    readonly virtualHost: VirtualHostInfo,
    readonly route: RouteInfo,
    readonly cors: CorsSource | undefined,
    readonly configs: ReadonlyMap<string, Any>,
    readonly requestPlan: HeaderMutationPlan,
    readonly responsePlan: HeaderMutationPlan,
  ) {}

  /**
   * `levels` are route configuration, virtual host, route, then the weighted cluster (or EMPTY_LEVEL);
   * `legacyCors` is the route's RouteAction.cors, else the virtual host's.
   */
  static build(
    virtualHost: VirtualHostInfo,
    route: RouteInfo,
    levels: { readonly config: LevelConfig; readonly vhost: LevelConfig; readonly route: LevelConfig; readonly cluster: LevelConfig },
    mostSpecificWins: boolean,
    legacyCors: CorsSource | undefined,
  ): Target {
    const configs = new Map<string, Any>();
    for (const l of [levels.config, levels.vhost, levels.route, levels.cluster]) for (const [k, v] of Object.entries(l.typedPerFilterConfig)) configs.set(k, v);
    const ordered = mostSpecificWins ? [levels.config, levels.vhost, levels.route] : [levels.route, levels.vhost, levels.config];
    const all = [levels.cluster, ...ordered];
    const plan = (pick: (l: LevelConfig) => HeaderMutationLevel | undefined): HeaderMutationPlan =>
      Object.freeze(all.map(pick).filter((l): l is HeaderMutationLevel => l !== undefined));
    const typedCors = configs.get(CORS_FILTER);
    const cors: CorsSource | undefined = typedCors !== undefined ? Object.freeze({ kind: 'typed', config: typedCors }) : legacyCors;
    return new Target(virtualHost, route, cors, configs, plan((l) => l.request), plan((l) => l.response));
  }
}

abstract class SelectionBase implements SelectionCommon {
  constructor(protected readonly target: Target) {}

  get virtualHost(): VirtualHostInfo {
    return this.target.virtualHost;
  }

  get route(): RouteInfo {
    return this.target.route;
  }

  get cors(): CorsSource | undefined {
    return this.target.cors;
  }

  perFilterConfig(name: string): Any | undefined {
    return this.target.configs.get(name);
  }

  applyRequestHeaders(headers: HeaderMap, ctx: HeaderFormatContext): void {
    if (this.target.requestPlan.length > 0) applyHeaderMutations(this.target.requestPlan, headers, ctx, headers);
  }

  applyResponseHeaders(headers: HeaderMap, ctx: HeaderFormatContext): void {
    if (this.target.responsePlan.length > 0) applyHeaderMutations(this.target.responsePlan, headers, ctx, ctx.requestHeaders);
  }
}

export class ForwardSelectionImpl extends SelectionBase implements ForwardSelection {
  readonly kind = 'route' as const;
  constructor(
    target: Target,
    readonly cluster: string,
    readonly path: string | undefined,
    readonly host: string | undefined,
    readonly action: RouteActionPolicy,
  ) {
    super(target);
  }
}

export class RedirectSelectionImpl extends SelectionBase implements RedirectSelection {
  readonly kind = 'redirect' as const;
  constructor(
    target: Target,
    readonly status: number,
    readonly location: string,
  ) {
    super(target);
  }
}

export class DirectResponseSelectionImpl extends SelectionBase implements DirectResponseSelection {
  readonly kind = 'directResponse' as const;
  constructor(
    target: Target,
    readonly status: number,
    readonly body: Uint8Array | undefined,
  ) {
    super(target);
  }
}
