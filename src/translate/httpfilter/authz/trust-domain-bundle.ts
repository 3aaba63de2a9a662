// The local trust domain and its aliases, and how policy identities are rewritten against them
// (istio pilot/pkg/security/trustdomain/bundle.go): a principal `<td>/ns/<ns>/sa/<sa>` whose trust domain is the
// local one, an alias, or `cluster.local` is expanded to one principal per trust domain of the bundle, and a
// `trustDomains` value naming one of them is expanded to all of them.

export interface TrustDomainBundle {
  /** The local trust domain first, then its aliases. */
  readonly trustDomains: readonly string[];
}

const CLUSTER_LOCAL = 'cluster.local';

export function trustDomainBundle(trustDomain: string, aliases: readonly string[] = []): TrustDomainBundle {
  return { trustDomains: [trustDomain, ...aliases] };
}

function prefixMatch(a: string, pattern: string): boolean {
  return pattern.endsWith('*') && a.startsWith(pattern.slice(0, -1));
}
function suffixMatch(a: string, pattern: string): boolean {
  return pattern.startsWith('*') && a.endsWith(pattern.slice(1));
}
function stringMatch(a: string, list: readonly string[]): boolean {
  return list.some((s) => a === s || s === '*' || prefixMatch(a, s) || prefixMatch(s, a) || suffixMatch(a, s) || suffixMatch(s, a));
}

/** ReplaceTrustDomainAliases. */
export function replaceTrustDomainAliases(bundle: TrustDomainBundle, principals: readonly string[]): string[] {
  const out: string[] = [];
  for (const principal of principals) {
    const parts = principal.split('/');
    // Not `<td>/ns/<ns>/sa/<sa>`, or td `*`: the policy does not pin a trust domain.
    if (parts.length !== 5 || parts[0] === '*') {
      out.push(principal);
      continue;
    }
    const td = parts[0] ?? '';
    if (!(stringMatch(td, bundle.trustDomains) || td === CLUSTER_LOCAL)) {
      out.push(principal);
      continue;
    }
    const expanded: string[] = [];
    for (const t of bundle.trustDomains) {
      const next = suffixMatch(t, td) ? principal : [t, ...parts.slice(1)].join('/');
      if (!expanded.includes(next)) expanded.push(next);
    }
    out.push(...expanded);
  }
  return out;
}

/** ExpandTrustDomainAliases (duplicates removed, first occurrence kept). */
export function expandTrustDomainAliases(bundle: TrustDomainBundle, values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) for (const x of bundle.trustDomains.includes(v) ? bundle.trustDomains : [v]) if (!out.includes(x)) out.push(x);
  return out;
}
