// Istio's filterChainOpts (pilot/pkg/networking/core/listener.go): a filter chain before it becomes Envoy
// config — its match criteria (SNI, destination CIDRs, ALPN, transport), the TLS it terminates, and either
// network filters or HTTP options for an HCM. isMatchAll, conflictsWith and toFilterChainMatch follow Istio
// line by line; they decide default filter chains and which merged chains Envoy would reject as duplicates.

import { create } from '@bufbuild/protobuf';
import { isIP } from 'node:net';
import { CidrRangeSchema, type CidrRange } from '../../xds/gen/envoy/config/core/v3/address_pb.js';
import { MetadataSchema, type Metadata } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { FilterChainMatchSchema, type Filter, type FilterChainMatch } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { DownstreamTlsContext } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { ConfigRef } from '../../model/snapshot.js';
import type { HttpListenerOpts } from './http-connection-manager.js';

export interface FilterChainOpts {
  readonly sniHosts: readonly string[];
  readonly destinationCidrs: readonly string[];
  readonly applicationProtocols: readonly string[];
  readonly transportProtocol: string;
  /** `istio.config` metadata naming the resource the chain came from. */
  readonly metadata?: Metadata;
  /** TLS this chain terminates; the slot inbound mTLS and gateway TLS fill. */
  readonly tlsContext?: DownstreamTlsContext;
  /** Set for an HCM chain; network filters then go before the HCM. */
  readonly http?: HttpListenerOpts;
  readonly networkFilters: readonly Filter[];
  /**
   * Istio's includeMx: the TCP metadata exchange filter goes first, ahead of every other network filter (gateway
   * TCP chains of ISTIO_MUTUAL servers).
   */
  readonly metadataExchange?: boolean;
}

export function chainOpts(init: Partial<FilterChainOpts>): FilterChainOpts {
  return { sniHosts: [], destinationCidrs: [], applicationProtocols: [], transportProtocol: '', networkFilters: [], ...init };
}

/** The chain matches every connection (Istio moves such a chain to the listener's default_filter_chain). */
export function isMatchAll(c: FilterChainOpts): boolean {
  return (c.sniHosts.length === 0 || c.sniHosts.includes('*')) && c.applicationProtocols.length === 0 && c.transportProtocol === '' && c.destinationCidrs.length === 0;
}

/** `10.0.0.1` -> 10.0.0.1/32, `10.0.0.0/8` -> 10.0.0.0/8 (util.ConvertAddressToCidr); undefined if not an address. */
export function toCidr(addr: string): CidrRange | undefined {
  const slash = addr.indexOf('/');
  const ip = slash < 0 ? addr : addr.slice(0, slash);
  const family = isIP(ip);
  if (family === 0) return undefined;
  const len = slash < 0 ? (family === 4 ? 32 : 128) : Number(addr.slice(slash + 1));
  return create(CidrRangeSchema, { addressPrefix: ip, prefixLen: len });
}

function maskedIpv4(ip: string, len: number): string {
  const n = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  const m = (n & mask) >>> 0;
  return `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}`;
}

function cidrSet(cidrs: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const s of cidrs) {
    const c = toCidr(s);
    if (c === undefined || c.addressPrefix === '0.0.0.0') continue;
    const len = c.prefixLen ?? 0;
    out.add(`${isIP(c.addressPrefix) === 4 ? maskedIpv4(c.addressPrefix, len) : c.addressPrefix}/${len}`);
  }
  return out;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** Two chains Envoy would consider identical matches (same transport, ALPN, SNI set, CIDR set). */
export function conflictsWith(a: FilterChainOpts, b: FilterChainOpts): boolean {
  if (a.transportProtocol !== b.transportProtocol) return false;
  if (a.applicationProtocols.length !== b.applicationProtocols.length || a.applicationProtocols.some((p, i) => p !== b.applicationProtocols[i])) return false;
  const sni = (x: readonly string[]): Set<string> => new Set(x.filter((h) => h !== '*'));
  if (!sameSet(sni(a.sniHosts), sni(b.sniHosts))) return false;
  return sameSet(cidrSet(a.destinationCidrs), cidrSet(b.destinationCidrs));
}

/** The Envoy FilterChainMatch; undefined for a match-all chain. SNI and CIDRs sorted; a `*` SNI drops the SNI match. */
export function toFilterChainMatch(c: FilterChainOpts): FilterChainMatch | undefined {
  if (isMatchAll(c)) return undefined;
  const serverNames = c.sniHosts.includes('*') ? [] : [...c.sniHosts].sort();
  const prefixRanges = [...c.destinationCidrs]
    .sort()
    .map(toCidr)
    .filter((x): x is CidrRange => x !== undefined && x.addressPrefix !== '0.0.0.0');
  return create(FilterChainMatchSchema, {
    applicationProtocols: [...c.applicationProtocols],
    transportProtocol: c.transportProtocol,
    serverNames,
    prefixRanges,
  });
}

const KEBAB_KINDS: Readonly<Record<string, string>> = {
  VirtualService: 'virtual-service',
  Gateway: 'gateway',
  Sidecar: 'sidecar',
  DestinationRule: 'destination-rule',
};

/** util.BuildConfigInfoMetadata: filter_metadata.istio.config = `/apis/networking.istio.io/v1/namespaces/<ns>/<kind>/<name>`. */
export function configMetadata(ref: ConfigRef): Metadata {
  const kind = KEBAB_KINDS[ref.kind] ?? ref.kind.toLowerCase();
  const path = `/apis/networking.istio.io/v1/namespaces/${ref.namespace}/${kind}/${ref.name}`;
  return create(MetadataSchema, { filterMetadata: { istio: { config: path } } });
}
