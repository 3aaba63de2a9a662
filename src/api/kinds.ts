// Every kind Isthmus understands, listed explicitly (no registration by import side effect).

import { DEPLOYMENT } from './core/deployment.js';
import { ENDPOINT_SLICE } from './core/endpoint-slice.js';
import { ENDPOINTS } from './core/endpoints.js';
import { NAMESPACE } from './core/namespace.js';
import { POD } from './core/pod.js';
import { SECRET } from './core/secret.js';
import { SERVICE_ACCOUNT } from './core/service-account.js';
import { SERVICE } from './core/service.js';
import { WASM_PLUGIN } from './extensions/wasm-plugin.js';
import { K8S_GATEWAY } from './gateway-api/gateway.js';
import { GATEWAY_CLASS } from './gateway-api/gateway-class.js';
import { GRPC_ROUTE } from './gateway-api/grpc-route.js';
import { HTTP_ROUTE } from './gateway-api/http-route.js';
import { REFERENCE_GRANT } from './gateway-api/reference-grant.js';
import { TCP_ROUTE } from './gateway-api/tcp-route.js';
import { TLS_ROUTE } from './gateway-api/tls-route.js';
import type { AnyKind } from './kind.js';
import { DESTINATION_RULE } from './networking/destination-rule.js';
import { ENVOY_FILTER } from './networking/envoy-filter.js';
import { ISTIO_GATEWAY } from './networking/gateway.js';
import { PROXY_CONFIG } from './networking/proxy-config.js';
import { SERVICE_ENTRY } from './networking/service-entry.js';
import { SIDECAR } from './networking/sidecar.js';
import { VIRTUAL_SERVICE } from './networking/virtual-service.js';
import { WORKLOAD_ENTRY } from './networking/workload-entry.js';
import { WORKLOAD_GROUP } from './networking/workload-group.js';
import { AUTHORIZATION_POLICY } from './security/authorization-policy.js';
import { PEER_AUTHENTICATION } from './security/peer-authentication.js';
import { REQUEST_AUTHENTICATION } from './security/request-authentication.js';
import { TELEMETRY } from './telemetry/telemetry.js';

export const ISTIO_KINDS: readonly AnyKind[] = [
  ISTIO_GATEWAY,
  VIRTUAL_SERVICE,
  DESTINATION_RULE,
  SERVICE_ENTRY,
  WORKLOAD_ENTRY,
  WORKLOAD_GROUP,
  SIDECAR,
  ENVOY_FILTER,
  PROXY_CONFIG,
  PEER_AUTHENTICATION,
  REQUEST_AUTHENTICATION,
  AUTHORIZATION_POLICY,
  WASM_PLUGIN,
  TELEMETRY,
];

export const GATEWAY_API_KINDS: readonly AnyKind[] = [GATEWAY_CLASS, K8S_GATEWAY, HTTP_ROUTE, GRPC_ROUTE, TCP_ROUTE, TLS_ROUTE, REFERENCE_GRANT];

export const CORE_KINDS: readonly AnyKind[] = [NAMESPACE, SERVICE, ENDPOINTS, ENDPOINT_SLICE, POD, SERVICE_ACCOUNT, DEPLOYMENT, SECRET];

export const ALL_KINDS: readonly AnyKind[] = [...ISTIO_KINDS, ...GATEWAY_API_KINDS, ...CORE_KINDS];
