// service.PortNameAnalyzer: Service ports whose name (or appProtocol) does not tell Istio the protocol
// (IST0118), and ExternalName Services with such ports (IST0150).
// Source: istio/istio pkg/config/analysis/analyzers/service/portname.go, pkg/config/kube/conversion.go
// (ConvertProtocol) and pkg/config/protocol/instance.go (Parse).

import { SERVICE, servicePortTargetPort, type ServicePort } from '../../api/core/service.js';
import type { Analyzer } from '../framework.js';

export type ProtocolName =
  | 'TCP' | 'UDP' | 'GRPC' | 'GRPC-Web' | 'HTTP' | 'HTTP_PROXY' | 'HTTP2' | 'HTTPS' | 'TLS' | 'Mongo' | 'Redis' | 'MySQL' | 'UnsupportedProtocol';

/** protocol.Parse (case-insensitive). */
export function parseProtocol(s: string): ProtocolName {
  const table: Record<string, ProtocolName> = {
    tcp: 'TCP', udp: 'UDP', grpc: 'GRPC', 'grpc-web': 'GRPC-Web', http: 'HTTP', http_proxy: 'HTTP_PROXY',
    http2: 'HTTP2', https: 'HTTPS', tls: 'TLS', mongo: 'Mongo', redis: 'Redis', mysql: 'MySQL',
  };
  return table[s.toLowerCase()] ?? 'UnsupportedProtocol';
}

/** Ports whose protocol is TCP when the name says nothing: SMTP, DNS, MySQL, MongoDB. */
const WELL_KNOWN_PORTS = new Set([25, 53, 3306, 27017]);

/** kube.ConvertProtocol: the protocol Istio infers for a Service port. */
export function convertProtocol(port: number, portName: string, proto: string | undefined, appProtocol: string | undefined): ProtocolName {
  if (proto === 'UDP') return 'UDP';
  let name = portName;
  if (appProtocol !== undefined) {
    name = appProtocol;
    if (name === 'kubernetes.io/h2c') return 'HTTP2';
    if (name === 'kubernetes.io/ws') return 'HTTP';
    if (name === 'kubernetes.io/wss') return 'HTTPS';
  }
  if (name.length >= 8 && name.slice(0, 8).toLowerCase() === 'grpc-web') return 'GRPC-Web';
  const dash = name.indexOf('-');
  if (dash >= 0) name = name.slice(0, dash);
  const p = parseProtocol(name);
  if (p === 'UnsupportedProtocol' && WELL_KNOWN_PORTS.has(port)) return 'TCP';
  return p;
}

/** The target port as the API server stores it (defaulted to `port`), printed like intstr.String(). */
function targetPortString(p: ServicePort): string {
  return String(servicePortTargetPort(p));
}

/** Managed-gateway label values that exempt a Service (constants.ManagedGateway*ControllerLabel). */
const MANAGED_GATEWAY_LABELS = new Set(['istio.io-gateway-controller', 'istio.io-mesh-controller', 'istio.io-eastwest-controller']);

export const portNameAnalyzer: Analyzer = {
  name: 'service.PortNameAnalyzer',
  description: 'Checks the port names associated with each service',
  inputs: ['/Service'],
  analyze(ctx) {
    for (const e of ctx.list(SERVICE)) {
      const labels = e.resource.metadata.labels ?? {};
      // util.IsIstioControlPlane
      if (labels['istio'] !== undefined || labels['release'] === 'istio') continue;
      const managed = labels['gateway.istio.io/managed'];
      if (managed !== undefined && MANAGED_GATEWAY_LABELS.has(managed)) continue;
      const externalName = e.resource.spec.type === 'ExternalName';
      (e.resource.spec.ports ?? []).forEach((p, i) => {
        const name = p.name ?? '';
        const proto = convertProtocol(p.port, name, p.protocol, p.appProtocol);
        if (proto !== 'UnsupportedProtocol' && !(name === 'tcp' && externalName)) return;
        if (externalName) ctx.report('IST0150', e, [], `spec.ports[${i}].port`);
        else ctx.report('IST0118', e, [name, p.port, targetPortString(p)], `spec.ports[${i}].port`);
      });
    }
  },
};
