// Building blocks shared by the core Kubernetes kinds (Service, Endpoints, EndpointSlice, Pod, Deployment...):
// Kubernetes' error wording (k8s.io/apimachinery/pkg/util/validation/field: `Invalid value: "x": ...`,
// `Required value`, `Unsupported value: ...: supported values: ...`, `Duplicate value: ...`, `Forbidden: ...`),
// the value checks of k8s.io/apimachinery/pkg/util/validation (ports, port names, IPs, CIDRs) and
// metav1.LabelSelector. Kubernetes validates *after* defaulting; callers apply the defaults themselves.

import { error, warning, type Issue, at } from '../../lib/issue.js';
import { labelKeyErrors, labelValueErrors, nameErrors } from '../names.js';
import { obj, stringMap, z } from '../schema.js';

// ---- field.Error formatting -------------------------------------------------------------------------

/** Go's rendering of a bad value in field.Error: strings quoted, numbers and booleans bare, string slices as `[]string{...}`. */
export function k8sValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
  return JSON.stringify(v);
}

export function invalid(path: string, value: unknown, detail: string): Issue {
  return error(path, `Invalid value: ${k8sValue(value)}: ${detail}`);
}

export function required(path: string, detail = ''): Issue {
  return error(path, detail === '' ? 'Required value' : `Required value: ${detail}`);
}

export function forbidden(path: string, detail: string): Issue {
  return error(path, `Forbidden: ${detail}`);
}

export function duplicate(path: string, value: unknown): Issue {
  return error(path, `Duplicate value: ${k8sValue(value)}`);
}

export function notFound(path: string, value: unknown): Issue {
  return error(path, `Not found: ${k8sValue(value)}`);
}

/** field.NotSupported; `supported` is given in the order Kubernetes lists it (sets.List sorts). */
export function notSupported(path: string, value: unknown, supported: readonly string[]): Issue {
  return error(path, `Unsupported value: ${k8sValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`);
}

/** ValidateNonnegativeField (apimachinery/pkg/api/validation). */
export function nonNegativeIssues(path: string, value: number | undefined): Issue[] {
  return value !== undefined && value < 0 ? [invalid(path, value, 'must be greater than or equal to 0')] : [];
}

// ---- value checks (k8s.io/apimachinery/pkg/util/validation) -----------------------------------------

export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const; // sets.List(supportedPortProtocols), sorted

/** IsValidPortNum. */
export function portNumErrors(port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** IsValidPortName (IANA_SVC_NAME). */
export function portNameErrors(port: string): string[] {
  const out: string[] = [];
  if (port.length > 15) out.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(port)) out.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) out.push('must contain at least one letter (a-z)');
  if (port.includes('--')) out.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) out.push('must not begin or end with a hyphen');
  return out;
}

/** ValidatePortNumOrName (core validation): an int-or-string port such as a targetPort or a probe port. */
export function portNumOrNameIssues(path: string, port: number | string): Issue[] {
  if (typeof port === 'number') return portNumErrors(port).map((m) => invalid(path, port, m));
  return portNameErrors(port).map((m) => invalid(path, port, m));
}

/** Kubernetes int-or-string (intstr.IntOrString). */
export const IntOrStringSchema = z.union([z.number().int(), z.string()]);
export type IntOrString = z.infer<typeof IntOrStringSchema>;

/** resource.Quantity as written in YAML (`100m`, `1Gi`, `2`). */
export const QuantitySchema = z.union([z.string(), z.number()]);

export const ProtocolSchema = z.string();

/** A parsed IP: family and bytes (4 or 16). */
export interface ParsedIP {
  readonly family: 4 | 6;
  readonly bytes: readonly number[];
}

function parseIPv4Sloppy(s: string): number[] | undefined {
  // k8s.io/utils/net ParseIPSloppy keeps Go 1.16's parser, which tolerates leading zeros in octets.
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIPv6(s: string): number[] | undefined {
  if (s.includes('%') || !s.includes(':')) return undefined;
  let head = s;
  let tail4: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4Sloppy(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail4 = v4;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = head.indexOf('::');
  if (dbl >= 0 && head.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseGroups = (t: string): number[] | undefined => {
    if (t === '') return [];
    const groups: number[] = [];
    for (const g of t.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      groups.push(parseInt(g, 16));
    }
    return groups;
  };
  let groups: number[];
  if (dbl >= 0) {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (left === undefined || right === undefined || left.length + right.length > 7) return undefined;
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (all === undefined || all.length !== 8) return undefined;
    groups = all;
  }
  const bytes = groups.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail4.length === 4) bytes.splice(12, 4, ...tail4);
  return bytes;
}

/** netutils.ParseIPSloppy. */
export function parseIP(s: string): ParsedIP | undefined {
  const v4 = parseIPv4Sloppy(s);
  if (v4 !== undefined) return { family: 4, bytes: v4 };
  const v6 = parseIPv6(s);
  return v6 === undefined ? undefined : { family: 6, bytes: v6 };
}

/** IsValidIP with legacy parsing, as Kubernetes applies it to its older IP fields (clusterIPs, externalIPs, endpoints). */
export function ipIssues(path: string, value: string): Issue[] {
  return parseIP(value) === undefined ? [invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')] : [];
}

/** ValidateNonSpecialIP (core validation): endpoints and external IPs may not be unspecified, loopback or link-local. */
export function nonSpecialIPIssues(path: string, value: string): Issue[] {
  const ip = parseIP(value);
  if (ip === undefined) return [invalid(path, value, 'must be a valid IP address')];
  const b = ip.bytes;
  let v4: readonly number[] | undefined = ip.family === 4 ? b : undefined;
  if (ip.family === 6 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) v4 = b.slice(12);
  const out: Issue[] = [];
  const unspecified = v4 !== undefined ? v4.every((x) => x === 0) : b.every((x) => x === 0);
  const loopback = v4 !== undefined ? v4[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
  const linkLocal = v4 !== undefined ? v4[0] === 169 && v4[1] === 254 : b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80;
  const llMulticast = v4 !== undefined ? v4[0] === 224 && v4[1] === 0 && v4[2] === 0 : b[0] === 0xff && ((b[1] ?? 0) & 0x0f) === 0x02;
  if (unspecified) out.push(invalid(path, value, `may not be unspecified (${value})`));
  if (loopback) out.push(invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (linkLocal) out.push(invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (llMulticast) out.push(invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return out;
}

function formatIP(ip: ParsedIP): string {
  if (ip.family === 4) return ip.bytes.join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0));
  // RFC 5952: compress the longest run (>= 2) of zero groups.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

const CIDR_EXAMPLE = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

/**
 * IsValidCIDR with legacy parsing (IsValidCIDRForLegacyField), as Kubernetes applies it to
 * `spec.loadBalancerSourceRanges`. Beyond Kubernetes: a bare IP is almost always meant as a single-host
 * range, so the message says which CIDR was probably meant (`/32` for IPv4, `/128` for IPv6). Values
 * with host bits set are accepted, with Kubernetes' GetWarningsForCIDR warning.
 */
export function cidrIssues(path: string, value: string): Issue[] {
  const slash = value.indexOf('/');
  if (slash < 0 || value.indexOf('/', slash + 1) >= 0) {
    const ip = slash < 0 ? parseIP(value) : undefined;
    const hint = ip !== undefined ? ` (did you mean ${JSON.stringify(`${value}/${ip.family === 4 ? 32 : 128}`)}?)` : '';
    return [invalid(path, value, CIDR_EXAMPLE + hint)];
  }
  const ip = parseIP(value.slice(0, slash));
  const bitsText = value.slice(slash + 1);
  const max = ip?.family === 4 ? 32 : 128;
  if (ip === undefined || !/^\d+$/.test(bitsText) || Number(bitsText) > max) return [invalid(path, value, CIDR_EXAMPLE)];
  const bits = Number(bitsText);
  const masked = ip.bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  if (masked.some((b, i) => b !== ip.bytes[i])) {
    const subnet = `${formatIP({ family: ip.family, bytes: masked })}/${bits}`;
    const single = `${formatIP(ip)}/${max}`;
    return [warning(path, `CIDR value ${JSON.stringify(value)} is ambiguous in this context (should be ${JSON.stringify(subnet)} or ${JSON.stringify(single)}?)`)];
  }
  return [];
}

// ---- names and labels -------------------------------------------------------------------------------

/** ValidateDNS1123Label. */
export function dns1123LabelIssues(path: string, value: string): Issue[] {
  return nameErrors(value, 'dns1123-label').map((m) => invalid(path, value, m));
}

/** ValidateDNS1123Subdomain. */
export function dns1123SubdomainIssues(path: string, value: string): Issue[] {
  return nameErrors(value, 'dns1123-subdomain').map((m) => invalid(path, value, m));
}

/** ValidateQualifiedName (IsQualifiedName: optional DNS-subdomain prefix, then a qualified name). */
export function qualifiedNameIssues(path: string, value: string): Issue[] {
  return labelKeyErrors(value).map((m) => invalid(path, value, m));
}

/** metav1 validation ValidateLabels: each key a qualified name, each value a label value. */
export function labelsIssues(path: string, labels: Readonly<Record<string, string>> | undefined): Issue[] {
  const out: Issue[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    out.push(...labelKeyErrors(k).map((m) => invalid(at(path, k), k, m)));
    out.push(...labelValueErrors(v).map((m) => invalid(at(path, k), v, m)));
  }
  return out;
}

// ---- metav1.LabelSelector ---------------------------------------------------------------------------

export const LABEL_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

export const LabelSelectorRequirementSchema = obj({
  key: z.string(),
  operator: z.string(),
  values: z.array(z.string()).optional(),
});

export const LabelSelectorSchema = obj({
  matchLabels: stringMap.optional(),
  matchExpressions: z.array(LabelSelectorRequirementSchema).optional(),
});
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

/** metav1 validation ValidateLabelSelector. */
export function labelSelectorIssues(path: string, sel: LabelSelector | undefined): Issue[] {
  if (sel === undefined) return [];
  const out: Issue[] = [];
  (sel.matchExpressions ?? []).forEach((req, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) out.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) out.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        out.push(invalid(`${p}.operator`, req.operator, 'not a valid selector operator'));
    }
    out.push(...labelKeyErrors(req.key).map((m) => invalid(`${p}.key`, req.key, m)));
    values.forEach((v, j) => out.push(...labelValueErrors(v).map((m) => invalid(`${p}.values[${j}]`, v, m))));
  });
  out.push(...labelsIssues(`${path}.matchLabels`, sel.matchLabels));
  return out;
}

/** True when `labels` satisfy `sel` (metav1.LabelSelectorAsSelector(...).Matches). An empty selector matches everything. */
export function labelSelectorMatches(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const req of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const val = labels[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || val === undefined || !values.includes(val)) return false;
        break;
      case 'NotIn':
        if (has && val !== undefined && values.includes(val)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

// ---- small shared schemas ---------------------------------------------------------------------------

/** core/v1 ObjectReference. */
export const ObjectReferenceSchema = obj({
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  apiVersion: z.string().optional(),
  resourceVersion: z.string().optional(),
  fieldPath: z.string().optional(),
});
export type ObjectReference = z.infer<typeof ObjectReferenceSchema>;

/** core/v1 LocalObjectReference. */
export const LocalObjectReferenceSchema = obj({ name: z.string().optional() });
