// Istio's host names and visibility rules (pkg/config/host/name.go, pilot/pkg/model ConvertHostToFQDN,
// exportTo): short names against a namespace, wildcard matching, and `ns/host` scoping. Shared by the
// analyzers, the service registry and the mesh snapshot.

export const CLUSTER_LOCAL_DOMAIN = 'svc.cluster.local';
export const EXPORT_TO_ALL = '*';
export const EXPORT_TO_LOCAL = '.';

const FQDN_PATTERN = /^(.+)\.(.+)\.svc\.cluster\.local$/;

export interface FullName {
  readonly namespace: string;
  readonly name: string;
}

/** `reviews` in `default` is `reviews.default.svc.cluster.local`; wildcards and dotted names are kept (ConvertHostToFQDN). */
export function convertHostToFqdn(namespace: string, host: string): string {
  return !host.startsWith('*') && !host.includes('.') ? `${host}.${namespace}.${CLUSTER_LOCAL_DOMAIN}` : host;
}

/** Namespace and name of `<name>.<ns>.svc.cluster.local`; undefined for other hosts (GetFullNameFromFQDN). */
export function fullNameFromFqdn(fqdn: string): FullName | undefined {
  const m = FQDN_PATTERN.exec(fqdn);
  return m === null ? undefined : { name: m[1] ?? '', namespace: m[2] ?? '' };
}

/** The object a destination host names: an FQDN anywhere, else a short name in `defaultNamespace` (GetResourceNameFromHost). */
export function resourceNameFromHost(defaultNamespace: string, host: string): FullName {
  return fullNameFromFqdn(host) ?? { namespace: defaultNamespace, name: host };
}

/** `ns/name` or `name` in `defaultNamespace` (resource.NewShortOrFullName). */
export function shortOrFullName(defaultNamespace: string, name: string): FullName {
  const slash = name.indexOf('/');
  return slash < 0 ? { namespace: defaultNamespace, name } : { namespace: name.slice(0, slash), name: name.slice(slash + 1) };
}

export function fullNameString(n: FullName): string {
  return `${n.namespace}/${n.name}`;
}

function isWildcarded(h: string): boolean {
  return h.startsWith('*');
}

/** host.Name.Matches: either host contains the other (wildcards are suffix matches). */
export function hostMatches(a: string, b: string): boolean {
  const aw = isWildcarded(a);
  const bw = isWildcarded(b);
  if (aw) {
    if (bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
    return b.endsWith(a.slice(1));
  }
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** host.NamesForNamespace: `ns/host` entries kept only for `namespace` or `*`, with the prefix removed. */
export function namesForNamespace(hosts: readonly string[], namespace: string): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const slash = h.indexOf('/');
    if (slash >= 0) {
      const ns = h.slice(0, slash);
      if (ns !== namespace && ns !== '*') continue;
      out.push(h.slice(slash + 1));
    } else out.push(h);
  }
  return out;
}

/** util.IsExportToAllNamespaces: empty or containing `*`. */
export function isExportToAll(exportTo: readonly string[] | undefined): boolean {
  return exportTo === undefined || exportTo.length === 0 || exportTo.includes(EXPORT_TO_ALL);
}

/** Scopes of a Service's `networking.istio.io/exportTo` annotation: none means `*` (getVisibleNamespacesFromExportToAnno). */
export function visibleNamespacesFromExportToAnnotation(annotation: string | undefined, namespace: string): string[] {
  if (annotation === undefined || annotation === '') return [EXPORT_TO_ALL];
  return annotation.split(',').map((s) => (s.trim() === EXPORT_TO_LOCAL ? namespace : s.trim()));
}
