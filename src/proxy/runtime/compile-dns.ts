// The DNS settings of a STRICT_DNS or LOGICAL_DNS cluster, as Envoy's DNS cluster reads them
// (source/extensions/clusters/dns/dns_cluster.cc and its legacy-field conversion): dns_refresh_rate (5 s by
// default, more than 1 ms), dns_failure_refresh_rate (a jittered exponential back-off between base and max
// after failed resolutions; the refresh rate when unset), respect_dns_ttl, dns_lookup_family, and the resolver:
// typed_dns_resolver_config (c-ares with its own nameservers, or getaddrinfo), else the deprecated
// dns_resolution_config, else dns_resolvers, else the system's. What the resolvers here cannot do is a
// problem (NACK): TCP-only queries, another resolver extension, a nameserver that is not an IP socket address.
// Also Envoy's checks of the endpoints: a LOGICAL_DNS cluster has exactly one, no endpoint names a custom
// resolver, and every address is a socket address.

import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { Cluster_DiscoveryType, Cluster_DnsLookupFamily, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Address } from '../../xds/gen/envoy/config/core/v3/address_pb.js';
import type { DnsResolverOptions } from '../../xds/gen/envoy/config/core/v3/resolver_pb.js';
import { CaresDnsResolverConfigSchema } from '../../xds/gen/envoy/extensions/network/dns_resolver/cares/v3/cares_dns_resolver_pb.js';
import { GetAddrInfoDnsResolverConfigSchema } from '../../xds/gen/envoy/extensions/network/dns_resolver/getaddrinfo/v3/getaddrinfo_dns_resolver_pb.js';
import { durationMs } from './duration.js';

export type LookupFamily = 'auto' | 'v4-only' | 'v6-only' | 'v4-preferred' | 'all';

export type DnsResolverSettings =
  | { readonly kind: 'system' }
  | {
      readonly kind: 'cares';
      /** `ip:port` (`[v6]:port`) per nameserver. */
      readonly servers: readonly string[];
      /** use_resolvers_as_fallback: the servers only when the system has no nameserver of its own. */
      readonly fallbackOnly: boolean;
      readonly filterUnroutableFamilies: boolean;
    };

export interface CompiledDns {
  readonly refreshMs: number;
  /** dns_failure_refresh_rate: back-off bounds after failures; undefined: the refresh rate. */
  readonly failureBackoff: { readonly baseMs: number; readonly maxMs: number } | undefined;
  readonly respectTtl: boolean;
  readonly family: LookupFamily;
  readonly resolver: DnsResolverSettings;
  /** LOGICAL_DNS: one host, the first address of the answer. */
  readonly logical: boolean;
}

const FAMILY: Readonly<Record<Cluster_DnsLookupFamily, LookupFamily>> = {
  [Cluster_DnsLookupFamily.AUTO]: 'auto',
  [Cluster_DnsLookupFamily.V4_ONLY]: 'v4-only',
  [Cluster_DnsLookupFamily.V6_ONLY]: 'v6-only',
  [Cluster_DnsLookupFamily.V4_PREFERRED]: 'v4-preferred',
  [Cluster_DnsLookupFamily.ALL]: 'all',
};

const CARES = 'envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig';
const GETADDRINFO = 'envoy.extensions.network.dns_resolver.getaddrinfo.v3.GetAddrInfoDnsResolverConfig';

function serverOf(a: Address, path: string, problems: string[]): string | undefined {
  if (a.address.case !== 'socketAddress') {
    problems.push(`${path}: a DNS resolver must be an IP socket address`);
    return undefined;
  }
  const s = a.address.value;
  const port = s.portSpecifier.case === 'portValue' ? s.portSpecifier.value : 53;
  if (s.portSpecifier.case === 'namedPort') problems.push(`${path}.socket_address.named_port: a DNS resolver needs a port number`);
  return s.address.includes(':') ? `[${s.address}]:${port}` : `${s.address}:${port}`;
}

function optionsProblems(o: DnsResolverOptions | undefined, path: string, problems: string[]): void {
  // Node's c-ares resolver has no switch for TCP-only queries. no_default_search_domain needs none: names
  // are asked as given by the c-ares resolver here (search domains apply only through the system resolver).
  if (o?.useTcpForDnsLookups === true) problems.push(`${path}.use_tcp_for_dns_lookups: DNS over TCP only is not supported`);
}

function caresOf(servers: readonly Address[], path: string, problems: string[], extra: { fallbackOnly?: boolean; filterUnroutableFamilies?: boolean } = {}): DnsResolverSettings {
  const list = servers.map((a, i) => serverOf(a, `${path}[${i}]`, problems)).filter((s): s is string => s !== undefined);
  if (list.length === 0) return { kind: 'system' };
  return { kind: 'cares', servers: list, fallbackOnly: extra.fallbackOnly ?? false, filterUnroutableFamilies: extra.filterUnroutableFamilies ?? false };
}

function resolverOf(c: Cluster, problems: string[]): DnsResolverSettings {
  const typed = c.typedDnsResolverConfig;
  if (typed !== undefined) {
    const path = `typed_dns_resolver_config(${typed.name})`;
    const any = typed.typedConfig;
    if (any?.typeUrl.endsWith(CARES) === true) {
      const cfg = anyUnpack(any, CaresDnsResolverConfigSchema);
      if (cfg === undefined) {
        problems.push(`${path}.typed_config: cannot decode CaresDnsResolverConfig`);
        return { kind: 'system' };
      }
      optionsProblems(cfg.dnsResolverOptions, `${path}.typed_config.dns_resolver_options`, problems);
      return caresOf(cfg.resolvers, `${path}.typed_config.resolvers`, problems, { fallbackOnly: cfg.useResolversAsFallback, filterUnroutableFamilies: cfg.filterUnroutableFamilies });
    }
    if (any?.typeUrl.endsWith(GETADDRINFO) === true) {
      if (anyUnpack(any, GetAddrInfoDnsResolverConfigSchema) === undefined) problems.push(`${path}.typed_config: cannot decode GetAddrInfoDnsResolverConfig`);
      return { kind: 'system' };
    }
    problems.push(`${path}: unsupported DNS resolver ${any?.typeUrl ?? '(no typed_config)'}; supported: c-ares (${CARES}) and getaddrinfo`);
    return { kind: 'system' };
  }
  if (c.useTcpForDnsLookups) problems.push('use_tcp_for_dns_lookups: DNS over TCP only is not supported');
  const rc = c.dnsResolutionConfig;
  if (rc !== undefined) {
    optionsProblems(rc.dnsResolverOptions, 'dns_resolution_config.dns_resolver_options', problems);
    return caresOf(rc.resolvers, 'dns_resolution_config.resolvers', problems);
  }
  return caresOf(c.dnsResolvers, 'dns_resolvers', problems);
}

/** The DNS settings of a DNS cluster (undefined for other discovery types); problems are pushed to `problems`. */
export function compileDns(c: Cluster, problems: string[]): CompiledDns | undefined {
  const t = c.clusterDiscoveryType;
  if (t.case !== 'type' || (t.value !== Cluster_DiscoveryType.STRICT_DNS && t.value !== Cluster_DiscoveryType.LOGICAL_DNS)) return undefined;
  const logical = t.value === Cluster_DiscoveryType.LOGICAL_DNS;
  const kind = logical ? 'LOGICAL_DNS' : 'STRICT_DNS';
  const localities = c.loadAssignment?.endpoints ?? [];
  if (logical && (localities.length !== 1 || localities[0]?.lbEndpoints.length !== 1)) {
    problems.push(c.loadAssignment !== undefined ? 'load_assignment: LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint' : 'LOGICAL_DNS clusters must have a single host');
  }
  localities.forEach((l, i) =>
    l.lbEndpoints.forEach((e, j) => {
      const path = `load_assignment.endpoints[${i}].lb_endpoints[${j}]`;
      const a = e.hostIdentifier.case === 'endpoint' ? e.hostIdentifier.value.address?.address : undefined;
      if (a?.case !== 'socketAddress') {
        problems.push(`${path}: ${kind} cluster endpoints must be socket addresses`);
        return;
      }
      if (a.value.resolverName !== '') problems.push(`${path}.endpoint.address.socket_address.resolver_name: ${kind} clusters must NOT have a custom resolver name set`);
      // A named port is refused for every cluster as the resource is checked (xds-client/validate.ts).
    }),
  );
  const refreshMs = durationMs(c.dnsRefreshRate, 5000);
  if (c.dnsRefreshRate !== undefined && refreshMs <= 1) problems.push('dns_refresh_rate: value must be greater than 1ms');
  let failureBackoff: CompiledDns['failureBackoff'];
  const fr = c.dnsFailureRefreshRate;
  if (fr !== undefined) {
    const baseMs = durationMs(fr.baseInterval, 0);
    const maxMs = durationMs(fr.maxInterval, baseMs * 10);
    if (fr.baseInterval === undefined || baseMs <= 1) problems.push('dns_failure_refresh_rate.base_interval: value must be greater than 1ms');
    else if (maxMs < baseMs) problems.push('dns_failure_refresh_rate: max_interval must be greater than or equal to the base_interval');
    failureBackoff = { baseMs, maxMs };
  }
  return { refreshMs, failureBackoff, respectTtl: c.respectDnsTtl, family: FAMILY[c.dnsLookupFamily] ?? 'auto', resolver: resolverOf(c, problems), logical };
}
