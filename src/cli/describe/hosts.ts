// Host names as `x describe` compares them with a Service, as istioctl does: a short name resolves in the
// namespace of the config that names it (`reviews` in default -> reviews.default.svc.cluster.local, Istio's
// ResolveShortnameToFQDN), then `.svc.<domain>` is added to any name without it (istioctl's extendFQDN),
// so `reviews.default` matches the Service too. Istio itself reads `reviews.default` as written, which
// `partlyQualifiedNote` says.

/** `host` as an FQDN, resolved in `namespace`. Wildcards and IP addresses stay as they are. */
export function resolveHost(host: string, namespace: string, domainSuffix: string): string {
  if (host === '' || host.startsWith('*') || /^[0-9.]+$/.test(host) || host.includes(':')) return host;
  const suffix = `.svc.${domainSuffix}`;
  if (!host.includes('.')) return `${host}.${namespace}${suffix}`;
  return host.endsWith(suffix) ? host : `${host}${suffix}`;
}

/** Whether the config host `pattern` (resolved, possibly a wildcard) names `fqdn`. */
export function hostMatches(pattern: string, fqdn: string): boolean {
  if (pattern === fqdn || pattern === '*') return true;
  return pattern.startsWith('*.') && fqdn.endsWith(pattern.slice(1));
}

/**
 * A note when `host` names the service only through istioctl's extension (`reviews.default`): Istio
 * resolves only names without a dot, so the proxies do not apply it to the Service.
 */
export function partlyQualifiedNote(host: string, fqdn: string, domainSuffix: string): string | undefined {
  if (!host.includes('.') || host === fqdn || host.startsWith('*') || `${host}.svc.${domainSuffix}` !== fqdn) return undefined;
  const short = fqdn.slice(0, fqdn.indexOf('.'));
  return `host "${host}" is not fully qualified: Istio reads it as written, not as ${fqdn}, so proxies do not apply it to the Service; write "${short}" or "${fqdn}"`;
}

/** istioctl's kname: `name` in the namespace being described, else `name.namespace`. */
export function kname(name: string, namespace: string, describedNamespace: string): string {
  return namespace === describedNamespace ? name : `${name}.${namespace}`;
}
