// Envoy's filter chain selection: among a listener's filter chains, pick the one whose filter_chain_match
// is most specific for the connection, criterion by criterion in Envoy's order (destination port,
// destination IP, server name, transport protocol, application protocols, direct source IP, source type,
// source IP, source port). At each step the chains with the most specific matching value survive; chains
// that leave the criterion empty survive only when no chain names a matching value. No survivor means the
// default_filter_chain, or no chain (the connection is closed).
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch

import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { FilterChainMatch } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { FilterChainMatch_ConnectionSourceType } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { CidrRange } from '../../xds/gen/envoy/config/core/v3/address_pb.js';

export interface ConnectionFacts {
  readonly destinationPort: number;
  readonly destinationIp: string;
  readonly sourceIp: string;
  readonly sourcePort: number;
  /** 'tls' or 'raw_buffer' (Envoy's transport protocol names). */
  readonly transportProtocol: string;
  readonly serverName: string;
  readonly applicationProtocols: readonly string[];
}

interface Cidr {
  readonly prefixLen: number;
  readonly list: BlockList;
}

export interface CompiledMatch<T> {
  readonly value: T;
  readonly destinationPort: number | undefined;
  readonly destinationCidrs: readonly Cidr[];
  readonly serverNames: readonly string[];
  readonly transportProtocol: string;
  readonly applicationProtocols: readonly string[];
  readonly directSourceCidrs: readonly Cidr[];
  readonly sourceType: FilterChainMatch_ConnectionSourceType;
  readonly sourceCidrs: readonly Cidr[];
  readonly sourcePorts: readonly number[];
}

function compileCidr(r: CidrRange, path: string, problems: string[]): Cidr | undefined {
  const family = isIPv4(r.addressPrefix) ? 'ipv4' : isIPv6(r.addressPrefix) ? 'ipv6' : undefined;
  if (family === undefined) {
    problems.push(`${path}.address_prefix: "${r.addressPrefix}" is not an IP address`);
    return undefined;
  }
  const len = r.prefixLen ?? (family === 'ipv4' ? 32 : 128);
  if (len > (family === 'ipv4' ? 32 : 128)) {
    problems.push(`${path}.prefix_len: ${len} is too long for ${r.addressPrefix}`);
    return undefined;
  }
  const list = new BlockList();
  list.addSubnet(r.addressPrefix, len, family);
  return { prefixLen: len, list };
}

function cidrs(rs: readonly CidrRange[], path: string, problems: string[]): Cidr[] {
  const out: Cidr[] = [];
  rs.forEach((r, i) => {
    const c = compileCidr(r, `${path}[${i}]`, problems);
    if (c !== undefined) out.push(c);
  });
  return out;
}

export function compileFilterChainMatch<T>(m: FilterChainMatch | undefined, value: T, path: string, problems: string[]): CompiledMatch<T> {
  return {
    value,
    destinationPort: m?.destinationPort,
    destinationCidrs: cidrs(m?.prefixRanges ?? [], `${path}.prefix_ranges`, problems),
    serverNames: (m?.serverNames ?? []).map((s) => s.toLowerCase()),
    transportProtocol: m?.transportProtocol ?? '',
    applicationProtocols: m?.applicationProtocols ?? [],
    directSourceCidrs: cidrs(m?.directSourcePrefixRanges ?? [], `${path}.direct_source_prefix_ranges`, problems),
    sourceType: m?.sourceType ?? FilterChainMatch_ConnectionSourceType.ANY,
    sourceCidrs: cidrs(m?.sourcePrefixRanges ?? [], `${path}.source_prefix_ranges`, problems),
    sourcePorts: m?.sourcePorts ?? [],
  };
}

function family(ip: string): 'ipv4' | 'ipv6' {
  return isIPv4(ip) ? 'ipv4' : 'ipv6';
}

/** The longest CIDR of `cs` containing ip, -1 when none does. */
function longest(cs: readonly Cidr[], ip: string): number {
  let best = -1;
  if (ip === '') return best;
  const f = family(ip);
  for (const c of cs) if (c.prefixLen > best && c.list.check(ip, f)) best = c.prefixLen;
  return best;
}

/** Score of a server name pattern for `sni`: exact beats the longest wildcard; -1 = no match. */
function serverNameScore(patterns: readonly string[], sni: string): number {
  let best = -1;
  for (const p of patterns) {
    if (p === sni) return Number.MAX_SAFE_INTEGER;
    if (p.startsWith('*.') && sni.endsWith(p.slice(1)) && p.length > best) best = p.length;
  }
  return best;
}

function isLocal(ip: string, dst: string): boolean {
  return ip === dst || ip.startsWith('127.') || ip === '::1' || ip === '::ffff:127.0.0.1';
}

/**
 * Narrows `cs` by one criterion: `score` is -1 when a chain's non-empty criterion does not match, else higher
 * is more specific; `empty` says the chain leaves the criterion unset (a wildcard).
 */
function narrow<T>(cs: readonly CompiledMatch<T>[], empty: (c: CompiledMatch<T>) => boolean, score: (c: CompiledMatch<T>) => number): CompiledMatch<T>[] {
  let best = -1;
  const specific: CompiledMatch<T>[] = [];
  const wild: CompiledMatch<T>[] = [];
  for (const c of cs) {
    if (empty(c)) {
      wild.push(c);
      continue;
    }
    const s = score(c);
    if (s < 0) continue;
    if (s > best) {
      best = s;
      specific.length = 0;
    }
    if (s === best) specific.push(c);
  }
  return specific.length > 0 ? specific : wild;
}

/** Selects the chain for a connection, or undefined (then the default chain applies). */
export function selectFilterChain<T>(chains: readonly CompiledMatch<T>[], f: ConnectionFacts): T | undefined {
  let cs: CompiledMatch<T>[] = chains.slice();
  cs = narrow(cs, (c) => c.destinationPort === undefined, (c) => (c.destinationPort === f.destinationPort ? 1 : -1));
  cs = narrow(cs, (c) => c.destinationCidrs.length === 0, (c) => longest(c.destinationCidrs, f.destinationIp));
  cs = narrow(cs, (c) => c.serverNames.length === 0, (c) => serverNameScore(c.serverNames, f.serverName));
  cs = narrow(cs, (c) => c.transportProtocol === '', (c) => (c.transportProtocol === f.transportProtocol ? 1 : -1));
  cs = narrow(cs, (c) => c.applicationProtocols.length === 0, (c) => (c.applicationProtocols.some((p) => f.applicationProtocols.includes(p)) ? 1 : -1));
  cs = narrow(cs, (c) => c.directSourceCidrs.length === 0, (c) => longest(c.directSourceCidrs, f.sourceIp));
  cs = narrow(
    cs,
    (c) => c.sourceType === FilterChainMatch_ConnectionSourceType.ANY,
    (c) => ((c.sourceType === FilterChainMatch_ConnectionSourceType.SAME_IP_OR_LOOPBACK) === isLocal(f.sourceIp, f.destinationIp) ? 1 : -1),
  );
  cs = narrow(cs, (c) => c.sourceCidrs.length === 0, (c) => longest(c.sourceCidrs, f.sourceIp));
  cs = narrow(cs, (c) => c.sourcePorts.length === 0, (c) => (c.sourcePorts.includes(f.sourcePort) ? 1 : -1));
  return cs[0]?.value;
}

/** Whether any chain needs TLS inspection (SNI, ALPN or transport) or HTTP inspection (ALPN on plaintext). */
export function inspectionNeeds<T>(chains: readonly CompiledMatch<T>[]): { tls: boolean; http: boolean } {
  let tls = false;
  let http = false;
  for (const c of chains) {
    if (c.serverNames.length > 0 || c.transportProtocol !== '') tls = true;
    if (c.applicationProtocols.length > 0) {
      tls = true;
      http = true;
    }
  }
  return { tls, http };
}
