// Checks shared by many kinds, ported from the behaviour of Istio's validation
// (pkg/config/validation/agent/validation.go) with Istio's messages. Each returns the messages it finds
// (empty when valid); callers attach the field path.

import { isIP } from 'node:net';
import { RE2JS } from 're2js';
import { parseGoDuration } from './duration.js';

/** google.protobuf.Duration as Istio validates it (ValidateDuration): >= 1ms, millisecond precision. */
export function durationErrors(s: string): string[] {
  const p = parseGoDuration(s);
  if (!p.ok) return [`bad Duration: ${p.message}`];
  if (p.ns < 1e6) return ['duration must be greater than 1ms'];
  if (p.ns % 1e6 !== 0) return ['only durations to ms precision are supported'];
  return [];
}

/** A Go duration that only needs to parse (and be non-negative), for fields Istio does not range-check. */
export function plainDurationErrors(s: string): string[] {
  const p = parseGoDuration(s);
  if (!p.ok) return [`bad Duration: ${p.message}`];
  if (p.ns < 0) return ['duration must be non-negative'];
  return [];
}

export function portErrors(port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : [`port number ${port} must be in the range 1..65535`];
}

export function percentErrors(val: number): string[] {
  return val < 0 || val > 100 ? [`percentage ${val} is not in range 0..100`] : [];
}

// Istio's own label rules (pkg/config/labels/instance.go): unlike Kubernetes object names, they allow
// upper case, and a wildcard label may be `*`, `*foo` or `*-foo`.
const ISTIO_DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const ISTIO_WILDCARD_LABEL = /^(\*|(\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;

/** Istio's labels.IsDNS1123Label (case-insensitive, at most 63 characters). */
export function isIstioDns1123Label(s: string): boolean {
  return s.length <= 63 && ISTIO_DNS1123_LABEL.test(s);
}

function dns1123Preconditions(name: string): string[] {
  if (name.length > 255) return [`domain name ${JSON.stringify(name)} too long (max 255)`];
  if (name.length === 0) return ['empty domain name not allowed'];
  return [];
}

function dns1123Labels(domain: string): string[] {
  const parts = domain.split('.');
  const tld = parts[parts.length - 1] ?? '';
  if (/^[+-]?\d+$/.test(tld)) return [`domain name ${JSON.stringify(domain)} invalid (top level domain ${JSON.stringify(tld)} cannot be all-numeric)`];
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i] ?? '';
    if (i === parts.length - 1 && label === '') return [];
    if (!isIstioDns1123Label(label)) return [`domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(label)} invalid)`];
  }
  return [];
}

export function fqdnErrors(fqdn: string): string[] {
  const pre = dns1123Preconditions(fqdn);
  return pre.length > 0 ? pre : dns1123Labels(fqdn);
}

function isWildcardDns1123Label(s: string): boolean {
  return s.length <= 63 && ISTIO_WILDCARD_LABEL.test(s);
}

/** A host that may start with a wildcard label (`*.example.com`, `*`), Istio's ValidateWildcardDomain. */
export function wildcardDomainErrors(domain: string): string[] {
  const pre = dns1123Preconditions(domain);
  if (pre.length > 0) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (!isWildcardDns1123Label(first)) return [`domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(first)} invalid)`];
  return dot < 0 ? [] : dns1123Labels(domain.slice(dot + 1));
}

export function partialWildcardErrors(host: string): string[] {
  return host.includes('*') && host.length !== 1 && !host.startsWith('*.') ? [`partial wildcard ${JSON.stringify(host)} not allowed`] : [];
}

export function isIPAddress(s: string): boolean {
  return isIP(s) !== 0;
}

export function ipAddressErrors(addr: string): string[] {
  return isIPAddress(addr) ? [] : [`${addr} is not a valid IP`];
}

/** Parses `a.b.c.d/nn` or `v6/nn` strictly (as Go's netip.ParsePrefix). */
export function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0 || s.indexOf('/', slash + 1) >= 0) return false;
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  const family = isIP(ip);
  if (family === 0 || !/^(0|[1-9]\d*)$/.test(bits)) return false;
  const n = Number(bits);
  return family === 4 ? n <= 32 : n <= 128;
}

/** CIDR or plain IP, Istio's ValidateIPSubnet. */
export function ipSubnetErrors(subnet: string): string[] {
  if ((subnet.match(/\//g) ?? []).length === 1) return isCidr(subnet) ? [] : [`${subnet} is not a valid CIDR block`];
  return ipAddressErrors(subnet);
}

/** RE2 syntax, as Envoy and Istio compile it; messages are Go's `error parsing regexp: ...`. */
export function regexErrors(re: string): string[] {
  try {
    RE2JS.compile(re);
    return [];
  } catch (e) {
    return [e instanceof Error ? e.message : String(e)];
  }
}

function sidecarOrGatewayHostnamePartErrors(hostname: string, isGateway: boolean): string[] {
  const out: string[] = [];
  if (hostname !== '*' && !hostname.includes('.')) out.push('short names (non FQDN) are not allowed');
  const wd = wildcardDomainErrors(hostname);
  if (wd.length > 0) {
    if (!isGateway) out.push(...wd);
    if (!isIPAddress(hostname)) out.push(...wd);
  }
  out.push(...partialWildcardErrors(hostname));
  return out;
}

/** `namespace/dnsName` hosts of Sidecar egress and Gateway servers (ValidateNamespaceSlashWildcardHostname). */
export function namespaceSlashHostErrors(hostname: string, isGateway: boolean): string[] {
  const slash = hostname.indexOf('/');
  if (slash < 0) {
    if (isGateway) return sidecarOrGatewayHostnamePartErrors(hostname, true);
    return ['host must be of form namespace/dnsName'];
  }
  const ns = hostname.slice(0, slash);
  const name = hostname.slice(slash + 1);
  const out: string[] = [];
  if (ns.length === 0 || name.length === 0) out.push('config namespace and dnsName in host entry cannot be empty');
  if (!isGateway) {
    const n = ns.startsWith('~') ? ns.slice(1) : ns;
    if (n !== '' && n !== '*' && n !== '.' && !isIstioDns1123Label(n)) out.push(`invalid namespace value ${JSON.stringify(ns)} in sidecar`);
  } else if (ns !== '*' && ns !== '.' && !isIstioDns1123Label(ns)) {
    out.push(`invalid namespace value ${JSON.stringify(ns)} in gateway`);
  }
  out.push(...sidecarOrGatewayHostnamePartErrors(name, isGateway));
  return out;
}

