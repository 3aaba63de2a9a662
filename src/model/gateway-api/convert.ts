// Kubernetes Gateway API config as the Istio Gateways and VirtualServices the translation already serves
// (Istio's pilot/pkg/config/kube/gateway controller: GatewayCollection, HTTPRoute/GRPCRoute/TCPRoute/
// TLSRoute collections, then the merged VirtualServices). Pure: the validated entries and the service
// registry in, frozen views and problems out. Problems never stop the conversion: a route that cannot be
// converted is left out whole, a parent that does not accept a route is not bound, an invalid backend
// leaves its rule answering errors for its share — each reported with the resource, the field and
// Istio's condition reason.

import type { Issue } from '../../lib/issue.js';
import type { ResourceEntry } from '../../api/entry.js';
import { isKind } from '../../api/kind.js';
import { K8S_GATEWAY, type K8sGateway } from '../../api/gateway-api/gateway.js';
import { HTTP_ROUTE } from '../../api/gateway-api/http-route.js';
import { GRPC_ROUTE } from '../../api/gateway-api/grpc-route.js';
import { TCP_ROUTE, type K8sTCPRoute } from '../../api/gateway-api/tcp-route.js';
import { TLS_ROUTE, type K8sTLSRoute } from '../../api/gateway-api/tls-route.js';
import type { Service } from '../../registry/types.js';
import type { MeshConfig } from '../mesh-config.js';
import type { GatewayView, VirtualServiceView } from '../snapshot.js';
import { buildConversionContext } from './context.js';
import { convertGateways } from './gateways.js';
import { httpVirtualServices, type HttpLikeRoute } from './http-virtual-services.js';
import { tcpVirtualServices, tlsVirtualServices } from './l4-virtual-services.js';

export interface GatewayApiInput {
  readonly entries: readonly ResourceEntry[];
  /** The registry's services (Kubernetes Services and ServiceEntry hosts). */
  readonly services: readonly Service[];
  readonly mesh: MeshConfig;
}

export interface GatewayApiConfig {
  /** One Istio Gateway per served listener, sorted by key. */
  readonly gateways: readonly GatewayView[];
  /** Generated VirtualServices in Istio's order (oldest first, then namespace/name). */
  readonly virtualServices: readonly VirtualServiceView[];
  readonly problems: readonly Issue[];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function convertGatewayApi(input: GatewayApiInput): GatewayApiConfig {
  const gateways: K8sGateway[] = [];
  const http: HttpLikeRoute[] = [];
  const tcp: K8sTCPRoute[] = [];
  const tls: K8sTLSRoute[] = [];
  for (const e of input.entries) {
    const r = e.resource;
    if (isKind(r, K8S_GATEWAY)) gateways.push(r);
    else if (isKind(r, HTTP_ROUTE)) http.push({ kind: 'HTTPRoute', route: r });
    else if (isKind(r, GRPC_ROUTE)) http.push({ kind: 'GRPCRoute', route: r });
    else if (isKind(r, TCP_ROUTE)) tcp.push(r);
    else if (isKind(r, TLS_ROUTE)) tls.push(r);
  }
  if (gateways.length === 0 && http.length === 0 && tcp.length === 0 && tls.length === 0) return { gateways: [], virtualServices: [], problems: [] };
  const ctx = buildConversionContext(input.entries, input.services, input.mesh);
  const converted = convertGateways(ctx, input.mesh.gatewayControllerName, gateways);
  const problems: Issue[] = [...converted.problems];
  const views = [
    ...httpVirtualServices(ctx, converted, http, problems),
    ...tcpVirtualServices(ctx, converted, tcp, problems),
    ...tlsVirtualServices(ctx, converted, tls, problems),
  ].sort((a, b) => cmp(a.creationTimestamp, b.creationTimestamp) || cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
  return {
    gateways: Object.freeze([...converted.views].sort((a, b) => cmp(a.key, b.key))),
    virtualServices: Object.freeze(views),
    problems: Object.freeze(problems),
  };
}
