// networking.istio.io Sidecar: schema and Istio's validation (ValidateSidecar,
// validateSidecarOutboundTrafficPolicy, validateSidecarEgressPortBindAndCaptureMode and
// validateSidecarIngressPortAndBind in istio/istio pkg/config/validation/validation.go). The messages it
// borrows from other protos come with their checks from shared modules: ConnectionPoolSettings
// (connection-pool.ts), Destination for `egressProxy` (route-common.ts), ServerTLSSettings (gateway.ts),
// the networking WorkloadSelector (../istio-common.ts).
// Defaults as Istio applies them: `captureMode` DEFAULT, `outboundTrafficPolicy.mode` REGISTRY_ONLY when the
// policy is given (else the mesh's), an egress listener without `port` is the catch-all.

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { alphaWorkloadSelectorIssues, AlphaWorkloadSelectorSchema } from '../istio-common.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { enumOf, obj, uint32, z } from '../schema.js';
import {
  fqdnErrors,
  ipAddressErrors,
  namespaceSlashHostErrors,
  portErrors,
  portNameErrors,
  UNIX_ADDRESS_PREFIX,
  unixAddressErrors,
} from '../validation/common.js';
import { connectionPoolIssues, ConnectionPoolSettingsSchema } from './connection-pool.js';
import { serverTlsIssues, ServerTLSSettingsSchema } from './gateway.js';
import { isHttpProtocol, isTlsProtocol, parseProtocol, protocolErrors } from './protocol.js';
import { destinationIssues, DestinationSchema } from './route-common.js';

// ---------------------------------------------------------------------------------------------------
// Schemas (istio/api networking/v1alpha3/sidecar.proto)

export const CAPTURE_MODES = ['DEFAULT', 'IPTABLES', 'NONE'] as const;
export type CaptureMode = (typeof CAPTURE_MODES)[number];

/**
 * REGISTRY_ONLY and ALLOW_ANY are the Sidecar API's modes. ALLOW_ANY_DYNAMIC_DNS is accepted by the schema
 * only so that it gets Istio's precise message (it exists in MeshConfig alone).
 */
export const OUTBOUND_TRAFFIC_MODES = ['REGISTRY_ONLY', 'ALLOW_ANY', 'ALLOW_ANY_DYNAMIC_DNS'] as const;
export type OutboundTrafficMode = (typeof OUTBOUND_TRAFFIC_MODES)[number];

/** istio.networking.v1alpha3.Destination (virtual_service.proto), used by `egressProxy`. */
export const EgressProxyDestinationSchema = obj({ ...DestinationSchema.shape, host: z.string() });
export type EgressProxyDestination = z.infer<typeof EgressProxyDestinationSchema>;

export const SidecarPortSchema = obj({
  number: uint32.optional(),
  protocol: z.string().optional(),
  name: z.string().optional(),
  /** Deprecated; rejected by Istio on Sidecars. */
  targetPort: uint32.optional(),
});
export type SidecarPort = z.infer<typeof SidecarPortSchema>;

export const IstioIngressListenerSchema = obj({
  port: SidecarPortSchema,
  bind: z.string().optional(),
  captureMode: enumOf(CAPTURE_MODES).optional(),
  defaultEndpoint: z.string().optional(),
  tls: ServerTLSSettingsSchema.optional(),
  connectionPool: ConnectionPoolSettingsSchema.optional(),
});
export type IstioIngressListener = z.infer<typeof IstioIngressListenerSchema>;

export const IstioEgressListenerSchema = obj({
  port: SidecarPortSchema.optional(),
  bind: z.string().optional(),
  captureMode: enumOf(CAPTURE_MODES).optional(),
  hosts: z.array(z.string()),
});
export type IstioEgressListener = z.infer<typeof IstioEgressListenerSchema>;

export const OutboundTrafficPolicySchema = obj({
  mode: enumOf(OUTBOUND_TRAFFIC_MODES).optional(),
  egressProxy: EgressProxyDestinationSchema.optional(),
});
export type OutboundTrafficPolicy = z.infer<typeof OutboundTrafficPolicySchema>;

export const SidecarSpecSchema = obj({
  workloadSelector: AlphaWorkloadSelectorSchema.optional(),
  ingress: z.array(IstioIngressListenerSchema).optional(),
  egress: z.array(IstioEgressListenerSchema).optional(),
  inboundConnectionPool: ConnectionPoolSettingsSchema.optional(),
  outboundTrafficPolicy: OutboundTrafficPolicySchema.optional(),
});
export type SidecarSpec = z.infer<typeof SidecarSpecSchema>;

const BodySchema = obj({ spec: SidecarSpecSchema.default({}), status: z.unknown().optional() });
export type SidecarBody = z.infer<typeof BodySchema>;
export type Sidecar = Resource<SidecarBody>;

// ---------------------------------------------------------------------------------------------------
// Outbound policy, default endpoint and bind checks

function outboundTrafficPolicyIssues(path: string, tp: OutboundTrafficPolicy | undefined): Issue[] {
  if (tp === undefined) return [];
  const mode = tp.mode ?? 'REGISTRY_ONLY';
  if (mode === 'ALLOW_ANY_DYNAMIC_DNS')
    return [error(at(path, 'mode'), 'sidecar: ALLOW_ANY_DYNAMIC_DNS mode is only supported in MeshConfig, not in Sidecar resource')];
  const ep = tp.egressProxy;
  if (ep === undefined) return [];
  const pp = at(path, 'egressProxy');
  if (mode !== 'ALLOW_ANY') return [error(pp, 'sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode')];
  const out: Issue[] = fqdnErrors(ep.host).map((m) => error(at(pp, 'host'), m));
  if (ep.port === undefined) {
    out.push(error(pp, 'sidecar: egress_proxy port must be non-nil'));
    return out;
  }
  out.push(...destinationIssues(pp, ep));
  return out;
}

/** Go's net.SplitHostPort, with Go's error text. */
export function splitHostPort(hostport: string): { host: string; port: string } | { error: string } {
  const fail = (why: string): { error: string } => ({ error: `address ${hostport}: ${why}` });
  const i = hostport.lastIndexOf(':');
  if (i < 0) return fail('missing port in address');
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0) return fail("missing ']' in address");
    if (end + 1 === hostport.length) return fail('missing port in address');
    if (end + 1 !== i) return fail(hostport[end + 1] === ':' ? 'too many colons in address' : 'missing port in address');
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(':')) return fail('too many colons in address');
  }
  if (hostport.slice(j).includes('[')) return fail("unexpected '[' in address");
  if (hostport.slice(k).includes(']')) return fail("unexpected ']' in address");
  return { host, port: hostport.slice(i + 1) };
}

function defaultEndpointIssues(path: string, ep: string): Issue[] {
  if (ep.startsWith(UNIX_ADDRESS_PREFIX)) return unixAddressErrors(ep.slice(UNIX_ADDRESS_PREFIX.length)).map((m) => error(path, m));
  const out: Issue[] = [];
  const split = splitHostPort(ep);
  const host = 'error' in split ? '' : split.host;
  const port = 'error' in split ? '' : split.port;
  if ('error' in split) out.push(error(path, split.error));
  if (host !== '' && host !== '127.0.0.1' && host !== '0.0.0.0' && host !== '::1' && host !== '::')
    out.push(error(path, 'sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset'));
  // strconv.Atoi
  if (!/^[+-]?\d+$/.test(port)) out.push(error(path, `sidecar: defaultEndpoint port (${port}) is not a number: strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`));
  else for (const m of portErrors(Number(port))) out.push(error(path, m));
  return out;
}

function bindIssues(path: string, bind: string): Issue[] {
  return bind === '' ? [] : ipAddressErrors(bind).map((m) => error(path, m));
}

// ---------------------------------------------------------------------------------------------------
// Sidecar checks

function ingressIssues(path: string, l: IstioIngressListener): Issue[] {
  const out: Issue[] = [];
  const pp = at(path, 'port');
  const port = l.port;
  if ((port.targetPort ?? 0) > 0) out.push(error(at(pp, 'targetPort'), 'targetPort has no impact on Sidecars'));
  if ((port.name ?? '') !== '') out.push(...portNameErrors(port.name ?? '').map((m) => error(at(pp, 'name'), m)));
  out.push(...protocolErrors(port.protocol ?? '').map((m) => error(at(pp, 'protocol'), m)));
  out.push(...portErrors(port.number ?? 0).map((m) => error(at(pp, 'number'), m)));
  out.push(...bindIssues(at(path, 'bind'), l.bind ?? ''));

  if ((l.defaultEndpoint ?? '') !== '') out.push(...defaultEndpointIssues(at(path, 'defaultEndpoint'), l.defaultEndpoint ?? ''));

  const tls = l.tls;
  if (tls !== undefined) {
    const tp = at(path, 'tls');
    if ((tls.subjectAltNames?.length ?? 0) > 0) out.push(error(at(tp, 'subjectAltNames'), 'sidecar: subjectAltNames is not supported in ingress tls'));
    if (tls.httpsRedirect === true) out.push(error(at(tp, 'httpsRedirect'), 'sidecar: httpsRedirect is not supported'));
    if ((tls.credentialName ?? '') !== '') out.push(error(at(tp, 'credentialName'), 'sidecar: credentialName is not currently supported'));
    if ((tls.credentialNames?.length ?? 0) > 0) out.push(error(at(tp, 'credentialNames'), 'sidecar: credentialNames is not currently supported'));
    if ((tls.tlsCertificates?.length ?? 0) > 0) out.push(error(at(tp, 'tlsCertificates'), 'sidecar: tls_certificates is not currently supported'));
    const mode = tls.mode ?? 'PASSTHROUGH';
    if (mode === 'ISTIO_MUTUAL' || mode === 'AUTO_PASSTHROUGH')
      out.push(error(at(tp, 'mode'), `configuration is invalid: cannot set mode to ${mode} in sidecar ingress tls`));
    if (!isTlsProtocol(parseProtocol(port.protocol ?? ''))) out.push(error(tp, 'server cannot have TLS settings for non HTTPS/TLS ports'));
    out.push(...serverTlsIssues(tp, tls));
  }

  out.push(...connectionPoolIssues(at(path, 'connectionPool'), l.connectionPool));
  if (l.connectionPool?.http !== undefined && !isHttpProtocol(parseProtocol(port.protocol ?? '')))
    out.push(
      warning(
        at(at(path, 'connectionPool'), 'http'),
        `sidecar: HTTP connection pool settings are configured for port ${port.number ?? 0} (${JSON.stringify(port.name ?? '')}) but its protocol is not HTTP (${port.protocol ?? ''}); only TCP settings will apply`,
      ),
    );
  return out;
}

function egressPortIssues(path: string, port: SidecarPort, bind: string, captureMode: CaptureMode): Issue[] {
  const out: Issue[] = [];
  const pp = at(path, 'port');
  if ((port.name ?? '') !== '') out.push(...portNameErrors(port.name ?? '').map((m) => error(at(pp, 'name'), m)));
  out.push(...protocolErrors(port.protocol ?? '').map((m) => error(at(pp, 'protocol'), m)));
  if ((port.number ?? 0) === 0) {
    // Port 0 means a unix domain socket listener.
    if (!bind.startsWith(UNIX_ADDRESS_PREFIX)) out.push(error(at(path, 'bind'), 'sidecar: ports with 0 value must have a unix domain socket bind address'));
    else out.push(...unixAddressErrors(bind.slice(UNIX_ADDRESS_PREFIX.length)).map((m) => error(at(path, 'bind'), m)));
    if (captureMode !== 'DEFAULT' && captureMode !== 'NONE')
      out.push(error(at(path, 'captureMode'), 'sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners'));
  } else {
    out.push(...portErrors(port.number ?? 0).map((m) => error(at(pp, 'number'), m)));
    out.push(...bindIssues(at(path, 'bind'), bind));
  }
  return out;
}

export function validateSidecar(r: Sidecar): Issue[] {
  const spec = r.spec;
  const namespace = r.metadata.namespace ?? '';
  const out: Issue[] = [];
  out.push(
    ...alphaWorkloadSelectorIssues(
      'spec.workloadSelector',
      spec.workloadSelector,
      'sidecar: workload selector specified without labels, will be applied to all services in namespace',
    ),
  );
  const ingress = spec.ingress ?? [];
  const egress = spec.egress ?? [];
  if (egress.length === 0 && ingress.length === 0 && spec.outboundTrafficPolicy === undefined && spec.inboundConnectionPool === undefined) {
    out.push(error('spec', 'sidecar: empty configuration provided'));
    return out;
  }

  const ingressPorts = new Set<number>();
  ingress.forEach((l, i) => {
    const path = `spec.ingress[${i}]`;
    out.push(...ingressIssues(path, l));
    const n = l.port.number ?? 0;
    if (ingressPorts.has(n)) out.push(error(at(at(path, 'port'), 'number'), 'sidecar: ports on IP bound listeners must be unique'));
    ingressPorts.add(n);
  });
  out.push(...connectionPoolIssues('spec.inboundConnectionPool', spec.inboundConnectionPool));

  const egressPorts = new Set<number>();
  const udsBinds = new Set<string>();
  let catchAll = false;
  egress.forEach((l, i) => {
    const path = `spec.egress[${i}]`;
    // At most one catch-all listener (no port), and it must be the last one.
    if (l.port === undefined) {
      if (!catchAll) {
        if (i === egress.length - 1) catchAll = true;
        else out.push(error(path, 'sidecar: the egress listener with empty port should be the last listener in the list'));
      } else {
        out.push(error(path, 'sidecar: egress can have only one listener with empty port'));
        return;
      }
    } else {
      if ((l.port.targetPort ?? 0) > 0) out.push(error(`${path}.port.targetPort`, 'targetPort has no impact on Sidecars'));
      const bind = l.bind ?? '';
      out.push(...egressPortIssues(path, l.port, bind, l.captureMode ?? 'DEFAULT'));
      const n = l.port.number ?? 0;
      if (n === 0) {
        if (udsBinds.has(bind)) out.push(error(`${path}.bind`, 'sidecar: unix domain socket values for listeners must be unique'));
        udsBinds.add(bind);
      } else {
        if (egressPorts.has(n)) out.push(error(`${path}.port.number`, 'sidecar: ports on IP bound listeners must be unique'));
        egressPorts.add(n);
      }
    }

    // hosts are `namespace/dnsName`: ns1/host, */host, */*, ns1/*, ns1/*.example.com, ./host, ~/host
    if (l.hosts.length === 0) {
      out.push(error(`${path}.hosts`, 'sidecar: egress listener must contain at least one host'));
      return;
    }
    const byNs = new Map<string, Set<string>>();
    l.hosts.forEach((h, j) => {
      const hp = `${path}.hosts[${j}]`;
      const slash = h.indexOf('/');
      if (slash >= 0 && !h.startsWith('~')) {
        const ns = h.slice(0, slash) === '.' ? namespace : h.slice(0, slash);
        const svc = h.slice(slash + 1);
        const seen = byNs.get(ns) ?? new Set<string>();
        byNs.set(ns, seen);
        if (svc !== '*') {
          if (seen.has(svc) || seen.has('*')) out.push(warning(hp, `duplicated egress host: ${h}`));
        } else if (seen.size !== 0) out.push(warning(hp, `duplicated egress host: ${h}`));
        seen.add(svc);
      }
      for (const m of namespaceSlashHostErrors(h, false)) out.push(error(hp, m));
    });
    if (byNs.get('*')?.has('*') === true && byNs.size !== 1)
      out.push(warning(`${path}.hosts`, '`*/*` host select all resources, no other hosts can be added'));
  });

  out.push(...outboundTrafficPolicyIssues('spec.outboundTrafficPolicy', spec.outboundTrafficPolicy));
  return out;
}

/** The listener's capture mode as Istio reads it (unset is DEFAULT: the mesh's iptables setup decides). */
export function effectiveCaptureMode(l: { captureMode?: CaptureMode | undefined }): CaptureMode {
  return l.captureMode ?? 'DEFAULT';
}

export const SIDECAR = defineKind<SidecarBody>({
  group: 'networking.istio.io',
  kind: 'Sidecar',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateSidecar,
});
