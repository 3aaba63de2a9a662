// Host name relations the conversion needs (istio/istio pkg/config/host/name.go and names.go): Matches
// (either side covers the other), SubsetOf (every name `a` matches, `b` matches too) and Names.Intersection
// (for each overlapping pair, the narrower name). Wildcards are a leading `*`.

import { hostMatches } from '../../api/host.js';

export { hostMatches };

export function isWildcarded(h: string): boolean {
  return h.startsWith('*');
}

/** host.Name.SubsetOf */
export function hostSubsetOf(a: string, b: string): boolean {
  const aw = isWildcarded(a);
  const bw = isWildcarded(b);
  if (aw) return bw && a.length >= b.length && a.slice(1).endsWith(b.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** host.Names.Intersection, in the order of `a`. */
export function hostIntersection(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  const add = (h: string): void => {
    if (!out.includes(h)) out.push(h);
  };
  for (const x of a) {
    for (const y of b) {
      if (hostSubsetOf(x, y)) add(x);
      else if (hostSubsetOf(y, x)) add(y);
    }
  }
  return out;
}
