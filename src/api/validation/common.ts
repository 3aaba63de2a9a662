// Checks shared by many kinds, ported from the behaviour of Istio's validation
// (pkg/config/validation/agent/validation.go) with Istio's messages: durations, ports and port names,
// percentages, hosts (FQDNs, wildcard domains, `namespace/host`), IPs and CIDRs, RE2 regexes and unix
// socket addresses. Each returns the messages it finds (empty when valid); callers attach the field path
// (durationIssues, the one exception, attaches it itself).
//
// Hosts follow Istio's label rules (istio-labels.ts): upper case letters and wildcard labels such as
// `*-foo` are accepted, unlike Kubernetes' lower-case-only rule in ../names.ts.

import { isIP } from 'node:net';
import { RE2JS } from 're2js';
import { error, type Issue } from '../../lib/issue.js';
import { parseGoDuration } from './duration.js';
import { byteLength, goQuote, isGoInt } from './go-format.js';
import { isIstioDns1123Label, isIstioWildcardDns1123Label } from './istio-labels.js';

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

/** durationErrors as issues at `path`; nothing when the field is unset. */
export function durationIssues(path: string, d: string | undefined): Issue[] {
  return d === undefined ? [] : durationErrors(d).map((m) => error(path, m));
}

export function portErrors(port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : [`port number ${port} must be in the range 1..65535`];
}

/** Istio's ValidatePortName. */
export function portNameErrors(name: string): string[] {
  return isIstioDns1123Label(name) ? [] : [`invalid port name: ${name}`];
}

export function percentErrors(val: number): string[] {
  return val < 0 || val > 100 ? [`percentage ${val} is not in range 0..100`] : [];
}

function dns1123PreconditionErrors(name: string): string[] {
  if (byteLength(name) > 255) return [`domain name ${goQuote(name)} too long (max 255)`];
  if (name.length === 0) return ['empty domain name not allowed'];
  return [];
}

function dns1123LabelsErrors(domain: string): string[] {
  const parts = domain.split('.');
  const tld = parts[parts.length - 1] ?? '';
  if (isGoInt(tld)) return [`domain name ${goQuote(domain)} invalid (top level domain ${goQuote(tld)} cannot be all-numeric)`];
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i] ?? '';
    if (i === parts.length - 1 && label === '') return [];
    if (!isIstioDns1123Label(label)) return [`domain name ${goQuote(domain)} invalid (label ${goQuote(label)} invalid)`];
  }
  return [];
}

/** agent.ValidateFQDN: Istio's DNS-1123 labels (upper case allowed), a trailing dot allowed. */
export function fqdnErrors(fqdn: string): string[] {
  const pre = dns1123PreconditionErrors(fqdn);
  return pre.length > 0 ? pre : dns1123LabelsErrors(fqdn);
}

/** agent.ValidateWildcardDomain: a host that may start with a wildcard label (`*.example.com`, `*`). */
export function wildcardDomainErrors(domain: string): string[] {
  const pre = dns1123PreconditionErrors(domain);
  if (pre.length > 0) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (!isIstioWildcardDns1123Label(first)) return [`domain name ${goQuote(domain)} invalid (label ${goQuote(first)} invalid)`];
  return dot < 0 ? [] : dns1123LabelsErrors(domain.slice(dot + 1));
}

const OUTBOUND_SNI_FORMAT = 'outbound_.<PORT>_._.<HOSTNAME>';

/** agent.ValidateWildcardDomainForVirtualServiceBoundToGateway: also accepts AUTO_PASSTHROUGH SNI names. */
export function gatewayBoundDomainErrors(sni: boolean, domain: string): string[] {
  const pre = dns1123PreconditionErrors(domain);
  if (pre.length > 0) return pre;
  if (sni && domain.startsWith('outbound_')) {
    const parts = domain.split('_');
    if (parts.length < 4) return [`domain name ${domain} invalid, should follow '${OUTBOUND_SNI_FORMAT}' format`];
    const trim = (s: string): string => s.replace(/^\.+|\.+$/g, '');
    const direction = parts[0] ?? '';
    const port = trim(parts[1] ?? '');
    const hostname = trim(parts[3] ?? '');
    if (direction !== 'outbound') return [`domain name ${goQuote(domain)} invalid (label ${goQuote(direction)} invalid)`];
    if (!/[0-9]/.test(port)) return [`domain name ${goQuote(domain)} invalid (label ${goQuote(port)} invalid). should follow ${OUTBOUND_SNI_FORMAT} format`];
    if (!/[a-zA-Z]/.test(hostname))
      return [`domain name ${goQuote(domain)} invalid (label ${goQuote(hostname)} invalid). should follow ${OUTBOUND_SNI_FORMAT} format`];
    return [];
  }
  return wildcardDomainErrors(domain);
}

export function partialWildcardErrors(host: string): string[] {
  return host.includes('*') && host.length !== 1 && !host.startsWith('*.') ? [`partial wildcard ${goQuote(host)} not allowed`] : [];
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
    if (n !== '' && n !== '*' && n !== '.' && !isIstioDns1123Label(n)) out.push(`invalid namespace value ${goQuote(ns)} in sidecar`);
  } else if (ns !== '*' && ns !== '.' && !isIstioDns1123Label(ns)) {
    out.push(`invalid namespace value ${goQuote(ns)} in gateway`);
  }
  out.push(...sidecarOrGatewayHostnamePartErrors(name, isGateway));
  return out;
}


/** Istio's UnixAddressPrefix, for `bind`, `defaultEndpoint` and endpoint addresses. */
export const UNIX_ADDRESS_PREFIX = 'unix://';

/** Istio's ValidateUnixAddress, given the address without its `unix://` prefix. */
export function unixAddressErrors(addr: string): string[] {
  if (addr.length === 0) return ['unix address must not be empty'];
  if (addr.startsWith('@')) return []; // abstract socket
  if (!addr.startsWith('/') || addr.endsWith('/')) return [`${addr} is not an absolute path to a file`];
  return [];
}
