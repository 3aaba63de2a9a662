// Name resolution for STRICT_DNS and LOGICAL_DNS clusters (dns-discovery.ts), as Envoy's DNS resolvers give it:
// the addresses of a name in the cluster's dns_lookup_family order, with the records' TTL when known.
// - The system resolver (Envoy's getaddrinfo resolver, and Isthmus's default): the C library's getaddrinfo
//   through node's dns.lookup, so /etc/hosts, search domains and the resolv.conf options apply. getaddrinfo
//   reports no TTL, so a cluster with respect_dns_ttl refreshes at dns_refresh_rate.
// - A c-ares resolver with its own nameservers (Envoy's CaresDnsResolverConfig.resolvers, and the deprecated
//   dns_resolvers and dns_resolution_config): node's dns.Resolver, which is c-ares, querying A and AAAA
//   records with their TTLs. Like any c-ares query it reads no /etc/hosts; the name is asked as given.
// Lookup families (Envoy's Cluster.DnsLookupFamily): V4_ONLY and V6_ONLY ask one family; AUTO is IPv6 first,
// IPv4 only when there is no IPv6 address; V4_PREFERRED the other way round; ALL both, IPv4 first. An IP
// literal resolves to itself, as c-ares answers it, without a query. As in Envoy's c-ares resolver, a name
// that does not exist (NXDOMAIN) or has no records of the family is an empty answer, not a failure
// (source/extensions/network/dns_resolver/cares/dns_impl.cc, isResponseWithNoRecords); failures are the
// rest: timeouts, refused or failing servers.

import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { promises as dns } from 'node:dns';
import type { DnsResolverSettings, LookupFamily } from '../runtime/compile-dns.js';

export interface DnsAnswer {
  /** The addresses in the family's order, without repeats (may be empty: the name has none of the family). */
  readonly addresses: readonly string[];
  /** The smallest TTL of the records, seconds; undefined when the resolver does not report TTLs. */
  readonly ttlSeconds: number | undefined;
}

export interface DnsResolver {
  /** Rejects when the name cannot be resolved (no such name, no answer from the servers, a timeout). */
  resolve(name: string, family: LookupFamily): Promise<DnsAnswer>;
}

/** The order Envoy's families give two lists: IPv4 `v4` and IPv6 `v6`. */
export function byFamily(v4: readonly string[], v6: readonly string[], family: LookupFamily): readonly string[] {
  switch (family) {
    case 'v4-only':
      return v4;
    case 'v6-only':
      return v6;
    case 'auto':
      return v6.length > 0 ? v6 : v4;
    case 'v4-preferred':
      return v4.length > 0 ? v4 : v6;
    case 'all':
      return [...v4, ...v6];
  }
}

function literal(name: string, family: LookupFamily): DnsAnswer | undefined {
  const v = isIP(name);
  if (v === 0) return undefined;
  return { addresses: byFamily(v === 4 ? [name] : [], v === 6 ? [name] : [], family), ttlSeconds: undefined };
}

const unique = (xs: readonly string[]): string[] => [...new Set(xs)];

/**
 * getaddrinfo blocks one of libuv's four pool threads until it answers (up to resolv.conf's timeouts when
 * the nameservers do not), and the pool also writes the access logs: at most this many lookups run at once.
 */
const MAX_SYSTEM_LOOKUPS = 2;
let systemLookups = 0;
const waitingLookups: (() => void)[] = [];

async function lookupSlot<T>(f: () => Promise<T>): Promise<T> {
  // A finished lookup hands its slot straight to the next waiting one.
  if (systemLookups >= MAX_SYSTEM_LOOKUPS) await new Promise<void>((go) => waitingLookups.push(go));
  else systemLookups++;
  try {
    return await f();
  } finally {
    const next = waitingLookups.shift();
    if (next !== undefined) next();
    else systemLookups--;
  }
}

/** getaddrinfo (node's dns.lookup), which is what the host's own programs resolve with. */
export const systemResolver: DnsResolver = {
  async resolve(name, family) {
    const lit = literal(name, family);
    if (lit !== undefined) return lit;
    let all: { address: string; family: number }[];
    try {
      all = await lookupSlot(() => dns.lookup(name, { all: true, verbatim: true, family: family === 'v4-only' ? 4 : family === 'v6-only' ? 6 : 0 }));
    } catch (e) {
      if (noRecords(e)) return { addresses: [], ttlSeconds: undefined };
      throw e;
    }
    const v4 = unique(all.filter((a) => a.family === 4).map((a) => a.address));
    const v6 = unique(all.filter((a) => a.family === 6).map((a) => a.address));
    return { addresses: byFamily(v4, v6, family), ttlSeconds: undefined };
  },
};

/** No such name, or no records of the family: an empty answer, not a failure. */
function noRecords(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'ENODATA' || code === 'ENOTFOUND' || code === 'ENONAME';
}

/** Settings of a c-ares resolver with its own nameservers. */
export interface CaresSettings {
  /** `ip:port` (`[v6]:port`) of each nameserver, in order. */
  readonly servers: readonly string[];
  /** Per-query timeout (ms) and tries per server; node's defaults when undefined. */
  readonly timeoutMs?: number;
  readonly tries?: number;
  /** filter_unroutable_families: no query (and no address) for a family no non-loopback interface has. */
  readonly filterUnroutableFamilies?: boolean;
}

/** c-ares with the given nameservers: A and AAAA queries with their TTLs. */
export function caresResolver(settings: CaresSettings): DnsResolver {
  const r = new dns.Resolver({ ...(settings.timeoutMs !== undefined ? { timeout: settings.timeoutMs } : {}), ...(settings.tries !== undefined ? { tries: settings.tries } : {}) });
  r.setServers([...settings.servers]);
  const query = async (name: string, v: 4 | 6): Promise<{ address: string; ttl: number }[]> => {
    try {
      return v === 4 ? await r.resolve4(name, { ttl: true }) : await r.resolve6(name, { ttl: true });
    } catch (e) {
      if (noRecords(e)) return [];
      throw e;
    }
  };
  return {
    async resolve(name, family) {
      const lit = literal(name, family);
      if (lit !== undefined) return lit;
      const routable = settings.filterUnroutableFamilies === true ? routableFamilies() : { v4: true, v6: true };
      const want4 = family !== 'v6-only' && routable.v4;
      const want6 = family !== 'v4-only' && routable.v6;
      // Both families are asked at once where either may be used; a failure of one fails the resolution
      // only when the other brought nothing.
      const [a4, a6] = await Promise.allSettled([want4 ? query(name, 4) : Promise.resolve([]), want6 ? query(name, 6) : Promise.resolve([])]);
      if (a4.status === 'rejected' && (a6.status === 'rejected' || a6.value.length === 0)) throw a4.reason;
      if (a6.status === 'rejected' && (a4.status === 'rejected' || a4.value.length === 0)) throw a6.reason;
      const r4 = a4.status === 'fulfilled' ? a4.value : [];
      const r6 = a6.status === 'fulfilled' ? a6.value : [];
      const addresses = byFamily(unique(r4.map((x) => x.address)), unique(r6.map((x) => x.address)), family);
      const used = new Set(addresses);
      const ttls = [...r4, ...r6].filter((x) => used.has(x.address)).map((x) => x.ttl);
      return { addresses, ttlSeconds: ttls.length > 0 ? Math.min(...ttls) : undefined };
    },
  };
}

/**
 * CaresDnsResolverConfig.filter_unroutable_families: the families some non-loopback interface of this host
 * has (Envoy's availableInterfaces skips loopback addresses); the others' addresses are dropped.
 */
export function routableFamilies(): { readonly v4: boolean; readonly v6: boolean } {
  let v4 = false;
  let v6 = false;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') v4 = true;
      else if (a.family === 'IPv6') v6 = true;
    }
  }
  return { v4, v6 };
}

/**
 * The resolver a cluster's settings ask for. c-ares with use_resolvers_as_fallback uses the system's own
 * nameservers (resolv.conf, as a fresh c-ares resolver reads them) when it has any, as Envoy's does.
 */
export function resolverFor(s: DnsResolverSettings): DnsResolver {
  if (s.kind === 'system') return systemResolver;
  const system = new dns.Resolver().getServers();
  // c-ares falls back to 127.0.0.1 itself when resolv.conf names no server (isCaresDefaultTheOnlyNameserver).
  const systemHasOwn = system.length > 0 && !(system.length === 1 && system[0] === '127.0.0.1');
  const servers = s.fallbackOnly && systemHasOwn ? system : s.servers;
  return caresResolver({ servers, filterUnroutableFamilies: s.filterUnroutableFamilies });
}
