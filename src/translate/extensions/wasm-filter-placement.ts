// Where WasmPlugin filters go among a listener's filters, as Istio's code puts them
// (pilot/pkg/networking/core: listener_builder.go buildHTTPConnectionManager, networkfilter.go
// buildCompleteNetworkFilters, listener_inbound.go buildInboundNetworkFiltersForHTTP, listener.go and gateway.go
// for outbound and gateway HCM chains; extension.PopAppendHTTP/PopAppendNetwork):
//  - HCM: [CUSTOM authz, AUTHN plugins, jwt_authn, AUTHZ plugins, RBAC, STATS plugins, UNSPECIFIED plugins],
//    then fault, cors, (telemetry) and the router (http-filters.ts). Istio's API docs describe UNSPECIFIED as "at
//    the end, right before the router"; its code has put STATS and UNSPECIFIED right after RBAC since
//    phases were introduced ("retains backwards compatibility"), and that is what Isthmus follows;
//  - TCP chains: [AUTHN, AUTHZ, network RBAC, STATS, UNSPECIFIED] NETWORK plugins, then tcp_proxy;
//  - chains ending in an HCM: NETWORK plugins of every phase before the HCM.
// Istio pops a phase's plugins once per listener, so of several HCM chains on one outbound or gateway port only
// the first gets the NETWORK plugins; Isthmus gives every such chain the same filters.
// Built once per (proxy translation, class, port): filters are shared, never mutated.

import type { WasmPlugin } from '../../api/extensions/wasm-plugin.js';
import type { Filter } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { ProxyContext } from '../context.js';
import { buildCustomAuthzFilters } from '../httpfilter/authz/ext-authz-filter.js';
import { buildJwtFilters } from '../httpfilter/jwt/jwt-filter.js';
import type { FilterChainOpts } from '../listener/filter-chain-opts.js';
import type { ListenerClass } from '../listener/http-filters.js';
import { httpWasmFilter, networkWasmFilter, type SecretLookup } from './wasm-plugin-config.js';
import { hasWasmPlugins, wasmPluginsForListener, type PhasedWasmPlugins, type WasmChainType } from './wasm-plugins-for-listener.js';

interface Built {
  readonly http: Map<WasmPlugin, HttpFilter | undefined>;
  readonly network: Map<WasmPlugin, Filter | undefined>;
  /** Lengths of the CUSTOM and jwt_authn parts of securityHttpFilters, per class. */
  readonly securitySplit: Map<ListenerClass, { readonly custom: number; readonly authn: number }>;
}

const memo = new WeakMap<ProxyContext, Built>();

function builtOf(ctx: ProxyContext): Built {
  let b = memo.get(ctx);
  if (b === undefined) {
    b = { http: new Map(), network: new Map(), securitySplit: new Map() };
    memo.set(ctx, b);
  }
  return b;
}

function secretsOf(ctx: ProxyContext): SecretLookup {
  return (namespace, name) => ctx.snapshot.secret(namespace, name);
}

function httpFilters(ctx: ProxyContext, plugins: readonly WasmPlugin[]): HttpFilter[] {
  const b = builtOf(ctx);
  const out: HttpFilter[] = [];
  for (const wp of plugins) {
    if (!b.http.has(wp)) b.http.set(wp, httpWasmFilter(wp, secretsOf(ctx)));
    const f = b.http.get(wp);
    if (f !== undefined) out.push(f);
  }
  return out;
}

function networkFilters(ctx: ProxyContext, plugins: readonly WasmPlugin[]): Filter[] {
  const b = builtOf(ctx);
  const out: Filter[] = [];
  for (const wp of plugins) {
    if (!b.network.has(wp)) b.network.set(wp, networkWasmFilter(wp, secretsOf(ctx)));
    const f = b.network.get(wp);
    if (f !== undefined) out.push(f);
  }
  return out;
}

function plugins(ctx: ProxyContext, cls: ListenerClass, port: number, type: WasmChainType): PhasedWasmPlugins {
  return wasmPluginsForListener(ctx, { class: cls, port }, type);
}

/**
 * securityHttpFilters is [CUSTOM (shadow RBAC + ext_authz)..., jwt_authn..., RBAC...] (security-filters.ts); the
 * lengths of the first two parts, from the builders it is made of.
 */
function securitySplit(ctx: ProxyContext, cls: ListenerClass): { readonly custom: number; readonly authn: number } {
  const b = builtOf(ctx);
  let s = b.securitySplit.get(cls);
  if (s === undefined) {
    s = { custom: buildCustomAuthzFilters(ctx, cls).length, authn: buildJwtFilters(ctx, cls).length };
    b.securitySplit.set(cls, s);
  }
  return s;
}

/**
 * The HCM filters that go before fault/cors/router: `security` (this listener class's securityHttpFilters) with
 * the HTTP plugins for this listener placed by phase. `security` itself when no plugin applies.
 */
export function httpFiltersWithWasm(ctx: ProxyContext, cls: ListenerClass, port: number, security: readonly HttpFilter[]): readonly HttpFilter[] {
  const p = plugins(ctx, cls, port, 'HTTP');
  if (!hasWasmPlugins(p)) return security;
  const split = security.length > 0 ? securitySplit(ctx, cls) : { custom: 0, authn: 0 };
  const authnEnd = split.custom + split.authn;
  return [
    ...security.slice(0, split.custom),
    ...httpFilters(ctx, p.AUTHN),
    ...security.slice(split.custom, authnEnd),
    ...httpFilters(ctx, p.AUTHZ),
    ...security.slice(authnEnd),
    ...httpFilters(ctx, p.STATS),
    ...httpFilters(ctx, p.UNSPECIFIED_PHASE),
  ];
}

/** The NETWORK plugins of a chain ending in an HCM, every phase in order. */
export function networkWasmBeforeHcm(ctx: ProxyContext, cls: ListenerClass, port: number): Filter[] {
  const p = plugins(ctx, cls, port, 'NETWORK');
  if (!hasWasmPlugins(p)) return [];
  return [...networkFilters(ctx, p.AUTHN), ...networkFilters(ctx, p.AUTHZ), ...networkFilters(ctx, p.STATS), ...networkFilters(ctx, p.UNSPECIFIED_PHASE)];
}

/** A TCP chain's filters: NETWORK plugins around the chain's network RBAC filters, then the terminal filters. */
export function tcpFiltersWithWasm(ctx: ProxyContext, cls: ListenerClass, port: number, rbac: readonly Filter[], terminal: readonly Filter[]): Filter[] {
  const p = plugins(ctx, cls, port, 'NETWORK');
  if (!hasWasmPlugins(p)) return [...rbac, ...terminal];
  return [
    ...networkFilters(ctx, p.AUTHN),
    ...networkFilters(ctx, p.AUTHZ),
    ...rbac,
    ...networkFilters(ctx, p.STATS),
    ...networkFilters(ctx, p.UNSPECIFIED_PHASE),
    ...terminal,
  ];
}

/**
 * An outbound or gateway chain with this listener's plugins: an HCM chain gets the HTTP plugins among its
 * security filters and the NETWORK plugins after its other network filters, before the HCM; a TCP chain gets the
 * NETWORK plugins before its filters (these chains carry no network RBAC).
 */
export function chainWithWasm(ctx: ProxyContext, cls: ListenerClass, port: number, c: FilterChainOpts): FilterChainOpts {
  if (c.http === undefined) {
    const p = plugins(ctx, cls, port, 'NETWORK');
    return hasWasmPlugins(p) ? { ...c, networkFilters: tcpFiltersWithWasm(ctx, cls, port, [], c.networkFilters) } : c;
  }
  const security = c.http.filters?.security ?? [];
  const withHttp = httpFiltersWithWasm(ctx, cls, port, security);
  const net = networkWasmBeforeHcm(ctx, cls, port);
  if (withHttp === security && net.length === 0) return c;
  return {
    ...c,
    networkFilters: [...c.networkFilters, ...net],
    http: { ...c.http, filters: { ...c.http.filters, security: withHttp } },
  };
}
