// Where a Service is exposed through an ingress gateway (istioctl printIngressInfo): for each VirtualService
// bound to an Istio Gateway whose routes reach the Service, the Gateway's pods (workloads whose labels
// its selector matches, in any namespace, as Istio does without PILOT_SCOPE_GATEWAY_TO_NAMESPACE) and the
// URLs of its HTTP and HTTPS servers. A local mesh binds gateways on 127.0.0.1 at the server's port
// (`isthmus up --ingress-port` moves 8080 elsewhere, which the config cannot tell).

import { isKind } from '../../api/kind.js';
import { ISTIO_GATEWAY, type IstioGateway } from '../../api/networking/gateway.js';
import { MESH_GATEWAY } from '../../api/networking/virtual-service.js';
import { resolveGatewayName } from '../../model/virtual-services.js';
import { selectorMatches } from '../../registry/labels.js';
import type { VirtualServiceMatch } from './virtual-service.js';
import type { ConfigInput, IngressExposure, WorkloadInfo } from './types.js';

const SCHEMES: Readonly<Record<string, { scheme: string; port: number }>> = {
  HTTP: { scheme: 'http', port: 80 },
  HTTP2: { scheme: 'http', port: 80 },
  GRPC: { scheme: 'http', port: 80 },
  HTTPS: { scheme: 'https', port: 443 },
};

function urlsOf(gw: IstioGateway, host: string): string[] {
  const out: string[] = [];
  for (const s of gw.spec.servers ?? []) {
    const d = SCHEMES[s.port.protocol.toUpperCase()];
    if (d === undefined) continue;
    const url = `${d.scheme}://${host}${s.port.number === d.port ? '' : `:${s.port.number}`}`;
    if (!out.includes(url)) out.push(url);
  }
  return out;
}

export interface IngressResult {
  readonly exposures: IngressExposure[];
  /** Set when some gateway VirtualService reaches the Service but no gateway pod runs it. */
  readonly skipped?: string;
  readonly warnings: string[];
}

export function ingressExposures(
  service: { readonly name: string; readonly namespace: string },
  vss: readonly VirtualServiceMatch[],
  config: readonly ConfigInput[],
  workloads: readonly WorkloadInfo[],
  gatewayHost: string,
): IngressResult {
  const gateways = new Map<string, IstioGateway>();
  for (const c of config) if (isKind(c.resource, ISTIO_GATEWAY)) gateways.set(`${c.resource.metadata.namespace ?? 'default'}/${c.resource.metadata.name}`, c.resource);
  const exposures: IngressExposure[] = [];
  const warnings: string[] = [];
  let withoutPods = false;
  for (const m of vss) {
    for (const name of m.summary.gateways) {
      if (name === MESH_GATEWAY) continue;
      const key = resolveGatewayName(name, m.summary.namespace);
      const gw = gateways.get(key);
      if (gw === undefined) {
        warnings.push(`WARNING: VirtualService ${m.summary.name}.${m.summary.namespace} names Gateway ${key}, which does not exist`);
        continue;
      }
      const selector = gw.spec.selector ?? {};
      const pods = Object.keys(selector).length === 0 ? [] : workloads.filter((w) => selectorMatches(selector, w.labels)).map((w) => `${w.name}.${w.namespace}`).sort();
      if (pods.length === 0) {
        withoutPods = true;
        continue;
      }
      exposures.push({ gateway: key, urls: urlsOf(gw, gatewayHost), pods, service: `${service.name}.${service.namespace}`, virtualService: m.summary });
    }
  }
  return { exposures, warnings, ...(withoutPods && exposures.length === 0 ? { skipped: 'Skipping Gateway information (no ingress gateway pods)' } : {}) };
}
