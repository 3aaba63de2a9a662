// Envoy's filter chain selection within one listener (FilterChainMatch, criterion by criterion, most specific
// wins, then default_filter_chain), with its CIDR, SNI and source-type ranking helpers.

import { BlockList, isIP } from 'node:net';
import type { Listener } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import {
  FilterChainMatch_ConnectionSourceType as SourceType,
  type FilterChain,
  type FilterChainMatch,
} from '../../../src/xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { CidrRange } from '../../../src/xds/gen/envoy/config/core/v3/address_pb.js';
import { Stop } from './stop.js';
import type { Conn } from './types.js';

interface Candidate {
  readonly chain: FilterChain;
  readonly label: string;
  readonly m: FilterChainMatch | undefined;
}

/** A criterion's rank for one chain: undefined excludes it, 0 means the chain does not constrain it. */
type Ranker = (m: FilterChainMatch | undefined) => number | undefined;

/**
 * FilterChainMatch (listener_components.proto): criteria apply in order (destination port, destination IP,
 * server name, transport protocol, application protocols, direct source IP, source type, source IP, source
 * port); at each step only the chains that match most specifically continue, so Envoy never falls back to a
 * less specific chain once a more specific one matched an earlier criterion. No chain left: the listener's
 * default_filter_chain. Application protocols: the first ALPN in the client's list that some chain names wins
 * (Envoy FilterChainManagerImpl::findFilterChainForApplicationProtocols).
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch
 */
export function selectFilterChain(l: Listener, c: Conn, trace: string[]): { chain: FilterChain; label: string } {
  if (l.filterChainMatcher !== undefined) throw new Stop('unsupported', `listener ${l.name} uses filter_chain_matcher`);
  let left: Candidate[] = l.filterChains.map((chain, i) => ({ chain, label: chain.name !== '' ? chain.name : `#${i}`, m: chain.filterChainMatch }));
  const firstAlpn = c.alpn.find((a) => left.some((x) => x.m?.applicationProtocols.includes(a) === true));
  const local = isLoopback(c.src) || c.src === c.dst;
  const steps: [string, Ranker][] = [
    ['destination_port', (m) => (m?.destinationPort === undefined ? 0 : m.destinationPort === c.call.port ? 1 : undefined)],
    ['prefix_ranges', (m) => cidrRank(m?.prefixRanges ?? [], c.dst)],
    ['server_names', (m) => sniRank(m?.serverNames ?? [], c.sni)],
    ['transport_protocol', (m) => (m === undefined || m.transportProtocol === '' ? 0 : m.transportProtocol === c.transport ? 1 : undefined)],
    ['application_protocols', (m) => (m === undefined || m.applicationProtocols.length === 0 ? 0 : firstAlpn !== undefined && m.applicationProtocols.includes(firstAlpn) ? 1 : undefined)],
    ['direct_source_prefix_ranges', (m) => cidrRank(m?.directSourcePrefixRanges ?? [], c.src)],
    ['source_type', (m) => {
      const t = m?.sourceType ?? SourceType.ANY;
      if (t === SourceType.ANY) return 0;
      return (t === SourceType.SAME_IP_OR_LOOPBACK) === local ? 1 : undefined;
    }],
    ['source_prefix_ranges', (m) => cidrRank(m?.sourcePrefixRanges ?? [], c.src)],
    ['source_ports', (m) => (m === undefined || m.sourcePorts.length === 0 ? 0 : m.sourcePorts.includes(c.srcPort) ? 1 : undefined)],
  ];
  for (const [step, rank] of steps) {
    const before = left.length;
    let best = -1;
    let kept: Candidate[] = [];
    for (const x of left) {
      const v = rank(x.m);
      if (v === undefined) continue;
      if (v > best) [best, kept] = [v, [x]];
      else if (v === best) kept.push(x);
    }
    left = kept;
    if (left.length !== before) trace.push(`filter chains after ${step}: [${left.map((x) => x.label).join(', ')}]`);
    if (left.length === 0) break;
  }
  const only = left[0];
  if (left.length > 1) throw new Stop('multiple filter chains', `listener ${l.name}: chains ${left.map((x) => x.label).join(', ')} all match`);
  if (only !== undefined) {
    trace.push(`filter chain ${only.label}`);
    return only;
  }
  if (l.defaultFilterChain !== undefined) {
    const label = l.defaultFilterChain.name !== '' ? l.defaultFilterChain.name : 'default_filter_chain';
    trace.push(`filter chain ${label} (default)`);
    return { chain: l.defaultFilterChain, label };
  }
  throw new Stop('no filter chain', `listener ${l.name}: no filter chain matches and there is no default_filter_chain`);
}

/** Longest matching prefix wins; no ranges behaves like 0.0.0.0/0 and ::/0. */
function cidrRank(ranges: readonly CidrRange[], ip: string): number | undefined {
  if (ranges.length === 0) return 0;
  let best: number | undefined;
  for (const r of ranges) {
    const len = r.prefixLen ?? 0;
    if (cidrContains(r.addressPrefix, len, ip) && (best === undefined || len > best)) best = len;
  }
  return best;
}

function cidrContains(prefix: string, len: number, ip: string): boolean {
  const family = isIP(prefix);
  if (family === 0 || family !== isIP(ip)) return false;
  const list = new BlockList();
  list.addSubnet(prefix, len, family === 4 ? 'ipv4' : 'ipv6');
  return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || cidrContains('127.0.0.0', 8, ip);
}

/** server_names: exact, then `*.example.com`, then `*.com` (longer suffix is more specific). */
function sniRank(names: readonly string[], sni: string): number | undefined {
  if (names.length === 0) return 0;
  if (sni === '') return undefined;
  const host = sni.toLowerCase();
  let best: number | undefined;
  for (const n of names.map((x) => x.toLowerCase())) {
    if (n === host) return Number.MAX_SAFE_INTEGER;
    if (n.startsWith('*.') && host.endsWith(n.slice(1)) && host.length > n.length - 1 && (best === undefined || n.length > best)) best = n.length;
  }
  return best;
}
