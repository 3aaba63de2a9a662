// service.PortNameAnalyzer: Service ports whose name (or appProtocol) does not tell Istio the protocol
// (IST0118), and ExternalName Services with such ports (IST0150).
// Source: istio/istio pkg/config/analysis/analyzers/service/portname.go, pkg/config/kube/conversion.go
// (ConvertProtocol) and pkg/config/protocol/instance.go (Parse).

import { SERVICE, servicePortTargetPort, type ServicePort } from '../../api/core/service.js';
import type { Analyzer } from '../framework.js';
import type { Protocol } from '../../api/networking/protocol.js';
import { inferPortProtocol } from '../../registry/port-protocol.js';

/** Istio's protocol.Instance name; `UnsupportedProtocol` when nothing names one. */
export type ProtocolName = Protocol | 'UnsupportedProtocol';

/** kube.ConvertProtocol: the protocol Istio infers for a Service port (the registry's inference). */
export function convertProtocol(port: number, portName: string, proto: string | undefined, appProtocol: string | undefined): ProtocolName {
  return inferPortProtocol(port, portName, proto, appProtocol) ?? 'UnsupportedProtocol';
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
