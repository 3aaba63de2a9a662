// The Host/:authority values a service answers to from one proxy (pilot/pkg/networking/core/httproute.go
// generateVirtualHostDomains, GenerateAltVirtualHosts, generateAltVirtualHostsForKubernetesService,
// getUniqueAndSharedDNSDomain): the FQDN, its absolute form with a trailing dot, the short names the proxy's
// DNS search path resolves (`reviews`, `reviews.default.svc`, `reviews.default` from the same namespace;
// no bare name from another), `*.` variants for headless Kubernetes services, and the service's VIPs.
// Sidecars and gateways match without the port (ignore_port_in_host_matching), so no `:port` forms;
// proxyless gRPC gets each name with and without `:port`.

import { isIP } from 'node:net';
import type { Service } from '../../registry/types.js';

/** util.IPv6Compliant: IPv6 literals in brackets. */
export function ipv6Compliant(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** util.DomainName (net.JoinHostPort): `host:port`, `[v6]:port`. */
export function domainName(host: string, port: number): string {
  return `${ipv6Compliant(host)}:${port}`;
}

/** Port 0 means "do not add the :port form" (portNoAppendPortSuffix). */
function appendDomainPort(domains: string[], domain: string, port: number): void {
  domains.push(ipv6Compliant(domain));
  if (port !== 0) domains.push(domainName(domain, port));
}

function removeSvcNamespace(domain: string): string {
  const i = domain.indexOf('.svc.');
  return i > 0 ? domain.slice(i) : domain;
}

function kubernetesAltHosts(hostname: string, port: number, proxyDomain: string): string[] {
  const cut = proxyDomain.indexOf('.svc.');
  const proxyNamespace = cut >= 0 ? proxyDomain.slice(0, cut) : proxyDomain;
  const ih = hostname.indexOf('.svc.');
  if (ih <= 0) return [];
  const ns = hostname.indexOf('.');
  if (ns + 1 >= hostname.length || ns + 1 > ih) return [];
  const short = hostname.slice(0, ns);
  const withNs = hostname.slice(0, ih);
  const out: string[] = [];
  if (hostname.slice(ns + 1, ih) === proxyNamespace) {
    for (const h of [short, `${withNs}.svc`, withNs]) appendDomainPort(out, h, port);
    return out;
  }
  for (const h of [withNs, `${withNs}.svc`]) appendDomainPort(out, h, port);
  return out;
}

/** getUniqueAndSharedDNSDomain: the labels of `fqdn` not shared with `proxyDomain`'s suffix, and the shared ones. */
function uniqueAndShared(fqdn: string, proxyDomain: string): { unique: string[]; shared: string[] } {
  const a = fqdn.split('.').reverse();
  const b = proxyDomain.split('.').reverse();
  let n = 0;
  while (n < Math.min(a.length, b.length) && a[n] === b[n]) n++;
  if (n === 0) return { unique: fqdn.split('.'), shared: [] };
  return { unique: a.slice(n).reverse(), shared: a.slice(0, n).reverse() };
}

/** GenerateAltVirtualHosts (absolute FQDN variants on, as Istio's default PILOT_ENABLE_ABSOLUTE_FQDN_VHOST_DOMAIN). */
export function altVirtualHosts(hostname: string, port: number, proxyDomain: string): string[] {
  const out: string[] = [];
  if (isIP(hostname) === 0) out.push(`${hostname}.`);
  if (port !== 0) out.push(domainName(`${hostname}.`, port));
  if (proxyDomain.includes('.svc.')) {
    if (hostname.endsWith(removeSvcNamespace(proxyDomain))) out.push(...kubernetesAltHosts(hostname, port, proxyDomain));
    return out;
  }
  const { unique, shared } = uniqueAndShared(hostname, proxyDomain);
  if (shared.length === 0) return out;
  const u = unique.join('.');
  appendDomainPort(out, u, port);
  if (unique.length === 2) appendDomainPort(out, `${u}.${shared[0] ?? ''}`, port);
  return out;
}

/**
 * generateVirtualHostDomains: `port` 0 leaves out the `:port` forms. Returns the domains and the alternate
 * (expanded) names among them, which dedupe against known FQDNs.
 */
export function virtualHostDomains(svc: Service, port: number, proxyDomain: string): { domains: string[]; altHosts: string[] } {
  const domains: string[] = [];
  const alt = altVirtualHosts(svc.hostname, port, proxyDomain);
  appendDomainPort(domains, svc.hostname, port);
  domains.push(...alt);
  if (svc.resolution === 'NONE' && svc.source === 'Kubernetes') {
    for (const d of [...domains]) domains.push(`*.${d}`);
  }
  for (const addr of svc.addresses) {
    if (addr !== '' && addr !== '0.0.0.0') appendDomainPort(domains, addr, port);
  }
  return { domains, altHosts: alt };
}
