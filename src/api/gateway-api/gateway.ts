// gateway.networking.k8s.io Gateway: schema and the CRD's validation
// (config/crd/standard/gateway.networking.k8s.io_gateways.yaml, apis/v1/gateway_types.go), including the
// listener CEL rules with their own messages. Named K8sGateway to keep it apart from Istio's Gateway.
// Defaults (applied by the API server, resolved here by the effective*() helpers): listener `tls.mode`
// Terminate, `allowedRoutes.namespaces.from` Same, address `type` IPAddress.

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { enumOf, obj, z } from '../schema.js';
import { isIPAddress } from '../validation/common.js';
import {
  GATEWAY_API_GROUP,
  GroupSchema,
  HostnameSchema,
  KindSchema,
  LabelSelectorSchema,
  ObjectNameSchema,
  ObjectReferenceSchema,
  PATTERNS,
  patterned,
  PortNumberSchema,
  SecretObjectReferenceSchema,
  SectionNameSchema,
} from './common.js';

const PROTOCOL_PATTERN =
  '^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9]+$';
// As written in the CRD: the anchors bind to the first and last alternatives only.
const ADDRESS_TYPE_PATTERN =
  "^Hostname|IPAddress|NamedAddress|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$";
const LABEL_KEY_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/;
const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';

export const TLS_MODES = ['Terminate', 'Passthrough'] as const;
export type TLSModeType = (typeof TLS_MODES)[number];

/** ListenerTLSConfig. */
export const ListenerTLSConfigSchema = obj({
  mode: enumOf(TLS_MODES).optional(),
  certificateRefs: z.array(SecretObjectReferenceSchema).max(64).optional(),
  options: z.record(z.string(), z.string().max(4096)).optional(),
});
export type ListenerTLSConfig = z.infer<typeof ListenerTLSConfigSchema>;

export const RouteNamespacesSchema = obj({
  from: enumOf(['All', 'Selector', 'Same']).optional(),
  selector: LabelSelectorSchema.optional(),
});
export type RouteNamespaces = z.infer<typeof RouteNamespacesSchema>;

export const RouteGroupKindSchema = obj({ group: GroupSchema.optional(), kind: KindSchema });
export type RouteGroupKind = z.infer<typeof RouteGroupKindSchema>;

export const AllowedRoutesSchema = obj({
  namespaces: RouteNamespacesSchema.optional(),
  kinds: z.array(RouteGroupKindSchema).max(8).optional(),
});
export type AllowedRoutes = z.infer<typeof AllowedRoutesSchema>;

export const ListenerSchema = obj({
  name: SectionNameSchema,
  hostname: HostnameSchema.optional(),
  port: PortNumberSchema,
  protocol: patterned(PROTOCOL_PATTERN).min(1).max(255),
  tls: ListenerTLSConfigSchema.optional(),
  allowedRoutes: AllowedRoutesSchema.optional(),
});
export type Listener = z.infer<typeof ListenerSchema>;

/** GatewaySpecAddress. `type` defaults to IPAddress. */
export const GatewaySpecAddressSchema = obj({
  type: patterned(ADDRESS_TYPE_PATTERN).min(1).max(253).optional(),
  value: z.string().max(253).optional(),
});
export type GatewaySpecAddress = z.infer<typeof GatewaySpecAddressSchema>;

/** LocalParametersReference. */
export const LocalParametersReferenceSchema = obj({ group: GroupSchema, kind: KindSchema, name: ObjectNameSchema });

export const GatewayInfrastructureSchema = obj({
  labels: z.record(z.string(), patterned(LABEL_VALUE_PATTERN).max(63)).optional(),
  annotations: z.record(z.string(), z.string().max(4096)).optional(),
  parametersRef: LocalParametersReferenceSchema.optional(),
});
export type GatewayInfrastructure = z.infer<typeof GatewayInfrastructureSchema>;

export const AllowedListenersSchema = obj({
  namespaces: obj({
    from: enumOf(['All', 'Selector', 'Same', 'None']).optional(),
    selector: LabelSelectorSchema.optional(),
  }).optional(),
});

/** FrontendTLSValidation. */
export const FrontendTLSValidationSchema = obj({
  caCertificateRefs: z.array(ObjectReferenceSchema).min(1).max(16),
  mode: enumOf(['AllowValidOnly', 'AllowInsecureFallback']).optional(),
});

/** TLSConfig (gateway-level frontend client validation). */
export const TLSConfigSchema = obj({ validation: FrontendTLSValidationSchema.optional() });

export const GatewayTLSConfigSchema = obj({
  backend: obj({ clientCertificateRef: SecretObjectReferenceSchema.optional() }).optional(),
  frontend: obj({
    default: TLSConfigSchema,
    perPort: z.array(obj({ port: PortNumberSchema, tls: TLSConfigSchema })).max(64).optional(),
  }).optional(),
});
export type GatewayTLSConfig = z.infer<typeof GatewayTLSConfigSchema>;

export const K8sGatewaySpecSchema = obj({
  gatewayClassName: ObjectNameSchema,
  addresses: z.array(GatewaySpecAddressSchema).max(16).optional(),
  listeners: z.array(ListenerSchema).min(1).max(64),
  infrastructure: GatewayInfrastructureSchema.optional(),
  allowedListeners: AllowedListenersSchema.optional(),
  tls: GatewayTLSConfigSchema.optional(),
});
export type K8sGatewaySpec = z.infer<typeof K8sGatewaySpecSchema>;

const BodySchema = obj({ spec: K8sGatewaySpecSchema, status: z.unknown().optional() });
export type K8sGatewayBody = z.infer<typeof BodySchema>;
export type K8sGateway = Resource<K8sGatewayBody>;

/** A listener's TLS mode after defaulting (Terminate), or undefined without `tls`. */
export function effectiveListenerTlsMode(l: Listener): TLSModeType | undefined {
  return l.tls === undefined ? undefined : (l.tls.mode ?? 'Terminate');
}

/** Where routes may attach from (`allowedRoutes.namespaces.from`, default Same). */
export function effectiveAllowedRoutesFrom(l: Listener): 'All' | 'Selector' | 'Same' {
  return l.allowedRoutes?.namespaces?.from ?? 'Same';
}

/** An address's type after defaulting (IPAddress). */
export function effectiveAddressType(a: GatewaySpecAddress): string {
  return a.type ?? 'IPAddress';
}

function listenerIssues(path: string, l: Listener): Issue[] {
  const out: Issue[] = [];
  const mode = effectiveListenerTlsMode(l);
  if (['HTTP', 'TCP', 'UDP'].includes(l.protocol) && l.tls !== undefined)
    out.push(error(at(path, 'tls'), "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"));
  if (l.protocol === 'HTTPS' && mode !== undefined && mode !== 'Terminate')
    out.push(error(at(at(path, 'tls'), 'mode'), 'tls mode must be Terminate for protocol HTTPS'));
  if (l.protocol === 'TLS' && mode === undefined) out.push(error(path, 'tls mode must be set for protocol TLS'));
  // Not a CRD rule: gateway_types.go says tls "is required if the Protocol field is HTTPS or TLS";
  // the API server accepts its absence for HTTPS and the listener is then rejected at runtime.
  if (l.protocol === 'HTTPS' && l.tls === undefined) out.push(warning(path, 'tls is required for protocol HTTPS'));
  if ((l.protocol === 'TCP' || l.protocol === 'UDP') && (l.hostname ?? '') !== '')
    out.push(error(at(path, 'hostname'), "hostname must not be specified for protocols ['TCP', 'UDP']"));
  if (l.tls !== undefined) {
    const tls = l.tls;
    if (mode === 'Terminate' && (tls.certificateRefs?.length ?? 0) === 0 && Object.keys(tls.options ?? {}).length === 0)
      out.push(error(at(path, 'tls'), 'certificateRefs or options must be specified when mode is Terminate'));
    if (Object.keys(tls.options ?? {}).length > 16) out.push(error(at(at(path, 'tls'), 'options'), 'must have at most 16 entries'));
  }
  return out;
}

function keyMapIssues(path: string, m: Record<string, string> | undefined, max: number, what: 'Label' | 'Annotation'): Issue[] {
  if (m === undefined) return [];
  const out: Issue[] = [];
  const keys = Object.keys(m);
  if (keys.length > max) out.push(error(path, `must have at most ${max} entries`));
  if (!keys.every((k) => LABEL_KEY_RE.test(k)))
    out.push(
      error(path, `${what} keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters.`),
    );
  if (!keys.every((k) => (k.split('/')[0] ?? '').length < 253))
    out.push(error(path, `If specified, the ${what.toLowerCase()} key's prefix must be a DNS subdomain not longer than 253 characters in total.`));
  return out;
}

const HOSTNAME_ADDRESS_RE = new RegExp(PATTERNS.hostname);

function addressIssues(addresses: readonly GatewaySpecAddress[]): Issue[] {
  const out: Issue[] = [];
  const seen = { IPAddress: new Set<string>(), Hostname: new Set<string>() };
  let dupIp = false;
  let dupHost = false;
  addresses.forEach((a, i) => {
    const p = at('spec.addresses', i);
    const type = effectiveAddressType(a);
    if (type === 'IPAddress' && a.value !== undefined) {
      // OpenAPI oneOf: an IPAddress value must have format ipv4 or ipv6.
      if (!isIPAddress(a.value)) out.push(error(at(p, 'value'), `Invalid value: ${JSON.stringify(a.value)}: must be of type ipv4 or ipv6`));
      if (seen.IPAddress.has(a.value)) dupIp = true;
      seen.IPAddress.add(a.value);
    }
    if (type === 'Hostname' && a.value !== undefined) {
      if (!HOSTNAME_ADDRESS_RE.test(a.value))
        out.push(error(p, `Hostname value must be empty or contain only valid characters (matching ${PATTERNS.hostname})`));
      if (seen.Hostname.has(a.value)) dupHost = true;
      seen.Hostname.add(a.value);
    }
  });
  if (dupIp) out.push(error('spec.addresses', 'IPAddress values must be unique'));
  if (dupHost) out.push(error('spec.addresses', 'Hostname values must be unique'));
  return out;
}

export function validateK8sGateway(r: K8sGateway): Issue[] {
  const spec = r.spec;
  const out: Issue[] = [];
  const listeners = spec.listeners;
  listeners.forEach((l, i) => out.push(...listenerIssues(at('spec.listeners', i), l)));
  // CEL on spec.listeners (reported at the second listener of each clash).
  const names = new Set<string>();
  const combos = new Set<string>();
  listeners.forEach((l, i) => {
    const p = at('spec.listeners', i);
    if (names.has(l.name)) out.push(error(at(p, 'name'), 'Listener name must be unique within the Gateway'));
    names.add(l.name);
    const combo = JSON.stringify([l.port, l.protocol, l.hostname ?? null]);
    if (combos.has(combo)) out.push(error(p, 'Combination of port, protocol and hostname must be unique for each listener'));
    combos.add(combo);
  });
  if (spec.addresses !== undefined) out.push(...addressIssues(spec.addresses));
  const infra = spec.infrastructure;
  if (infra !== undefined) {
    out.push(...keyMapIssues('spec.infrastructure.labels', infra.labels, 8, 'Label'));
    out.push(...keyMapIssues('spec.infrastructure.annotations', infra.annotations, 16, 'Annotation'));
  }
  const perPort = spec.tls?.frontend?.perPort;
  if (perPort !== undefined) {
    const ports = new Set<number>();
    let dup = false;
    for (const pp of perPort) {
      if (ports.has(pp.port)) dup = true;
      ports.add(pp.port);
    }
    if (dup) out.push(error('spec.tls.frontend.perPort', 'Port for TLS configuration must be unique within the Gateway'));
  }
  listeners.forEach((l, i) => {
    const sel = l.allowedRoutes?.namespaces;
    if (sel?.from === 'Selector' && sel.selector === undefined)
      out.push(warning(at(at(at(at('spec.listeners', i), 'allowedRoutes'), 'namespaces'), 'selector'), 'Selector must be specified when From is set to "Selector"'));
  });
  return out;
}

export const K8S_GATEWAY = defineKind<K8sGatewayBody>({
  group: GATEWAY_API_GROUP,
  kind: 'Gateway',
  versions: ['v1', 'v1beta1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateK8sGateway,
});
