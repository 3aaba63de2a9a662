// Virtual host selection by :authority, built once per route configuration. Envoy's search order:
// exact domains, then suffix wildcards (`*.foo.com`, `*-bar.foo.com`), longest first, then prefix
// wildcards (`foo.*`), longest first, then the one `*`. Hosts and domains compare lower-cased; a
// wildcard never matches the empty string (`*.foo.com` does not match `.foo.com`).
// Ports: by default the authority is matched as sent, port included, so `reviews:9080` needs a domain
// with that port; with ignore_port_in_host_matching the request's port is stripped first (never the
// domains'). There is no retry without the port.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-virtualhost-domains
// Envoy: source/common/router/config_impl.cc (RouteMatcher::findVirtualHost, findWildcardVirtualHost).

import { asciiLower } from './ascii.js';

export interface VirtualHostIndex<T> {
  find(authority: string): T | undefined;
}

interface Wildcards<T> {
  /** Length of the domain without its `*`. */
  readonly length: number;
  readonly byText: Map<string, T>;
}

/** Http::HeaderUtility::getPortStart: the last ':' unless it sits inside an IPv6 literal's brackets. */
export function portStart(host: string): number {
  const colon = host.lastIndexOf(':');
  if (colon < 0) return -1;
  const bracket = host.lastIndexOf(']');
  return bracket < 0 || bracket < colon ? colon : -1;
}

function addWildcard<T>(list: Wildcards<T>[], text: string, value: T): boolean {
  let bucket = list.find((w) => w.length === text.length);
  if (bucket === undefined) {
    bucket = { length: text.length, byText: new Map() };
    list.push(bucket);
  }
  if (bucket.byText.has(text)) return false;
  bucket.byText.set(text, value);
  return true;
}

class Index<T> implements VirtualHostIndex<T> {
  constructor(
    private readonly exact: ReadonlyMap<string, T>,
    private readonly suffixes: readonly Wildcards<T>[],
    private readonly prefixes: readonly Wildcards<T>[],
    private readonly fallback: T | undefined,
    private readonly ignorePort: boolean,
  ) {}

  find(authority: string): T | undefined {
    if (this.exact.size === 0 && this.suffixes.length === 0 && this.prefixes.length === 0) return this.fallback;
    let host = authority;
    if (this.ignorePort) {
      const p = portStart(host);
      if (p >= 0) host = host.slice(0, p);
    }
    host = asciiLower(host);
    const exact = this.exact.get(host);
    if (exact !== undefined) return exact;
    for (const w of this.suffixes) {
      if (w.length >= host.length) continue;
      const v = w.byText.get(host.slice(host.length - w.length));
      if (v !== undefined) return v;
    }
    for (const w of this.prefixes) {
      if (w.length >= host.length) continue;
      const v = w.byText.get(host.slice(0, w.length));
      if (v !== undefined) return v;
    }
    return this.fallback;
  }
}

export interface DomainEntry<T> {
  readonly domains: readonly string[];
  readonly value: T;
}

/**
 * Indexes every virtual host's domains. Duplicates (after lower-casing) and a second `*` are problems,
 * as Envoy rejects them; `path` is the field path of the virtual_hosts list.
 */
export function buildVirtualHostIndex<T>(entries: readonly DomainEntry<T>[], ignorePort: boolean, path: string, problems: string[]): VirtualHostIndex<T> {
  const exact = new Map<string, T>();
  const suffixes: Wildcards<T>[] = [];
  const prefixes: Wildcards<T>[] = [];
  let fallback: T | undefined;
  entries.forEach((e, i) => {
    if (e.domains.length === 0) problems.push(`${path}[${i}].domains: must have at least 1 item`);
    e.domains.forEach((d, j) => {
      const domain = asciiLower(d);
      let unique: boolean;
      if (domain === '*') {
        unique = fallback === undefined;
        fallback ??= e.value;
      } else if (domain.startsWith('*')) {
        unique = addWildcard(suffixes, domain.slice(1), e.value);
      } else if (domain.endsWith('*')) {
        unique = addWildcard(prefixes, domain.slice(0, -1), e.value);
      } else {
        unique = !exact.has(domain);
        if (unique) exact.set(domain, e.value);
      }
      if (!unique) {
        problems.push(
          domain === '*'
            ? `${path}[${i}].domains[${j}]: only a single wildcard domain (*) is permitted`
            : `${path}[${i}].domains[${j}]: only unique values for domains are permitted; duplicate entry of domain ${JSON.stringify(domain)}`,
        );
      }
    });
  });
  suffixes.sort((a, b) => b.length - a.length);
  prefixes.sort((a, b) => b.length - a.length);
  return new Index(exact, suffixes, prefixes, fallback, ignorePort);
}
