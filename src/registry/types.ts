// The service registry's model: services, their ports, the endpoints behind them and the workloads those
// endpoints belong to, whatever they came from (Kubernetes Services, ServiceEntry + WorkloadEntry, or
// workloads the local mesh registers at run time). These are Istio's model.Service / IstioEndpoint /
// WorkloadInstance reduced to what translation uses. Everything here is plain, frozen data.

import type { Protocol } from '../api/networking/protocol.js';

export type Labels = Readonly<Record<string, string>>;

export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

export const NO_LOCALITY: Locality = Object.freeze({ region: '', zone: '', subZone: '' });

/** How the proxy finds a service's addresses (ServiceEntry.Resolution; Kubernetes Services are STATIC via EDS). */
export type Resolution = 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'NONE';

/** Where a service runs: inside the mesh (mTLS-capable) or outside. */
export type ServiceLocation = 'MESH_INTERNAL' | 'MESH_EXTERNAL';

export type ServiceSource = 'Kubernetes' | 'ServiceEntry';

export interface ServicePort {
  readonly name: string;
  readonly port: number;
  /** Undefined: not declared and not inferable from the name, so the proxy detects it (Istio's auto-detection). */
  readonly protocol: Protocol | undefined;
  /** Kubernetes targetPort (number, or a container port name resolved against the workload). */
  readonly targetPort?: number | string;
}

export interface Service {
  /** FQDN (`reviews.default.svc.cluster.local`) or ServiceEntry host (may be a wildcard `*.example.com`). */
  readonly hostname: string;
  readonly namespace: string;
  /** Name of the resource that defined it (Service or ServiceEntry). */
  readonly name: string;
  readonly source: ServiceSource;
  readonly ports: readonly ServicePort[];
  /** Virtual IPs (ClusterIP, ServiceEntry addresses); empty for headless / address-less services. */
  readonly addresses: readonly string[];
  readonly resolution: Resolution;
  readonly location: ServiceLocation;
  /** Namespaces the service is visible to: `*` for all, else namespace names ('.' already resolved). Empty: none. */
  readonly exportTo: readonly string[];
  readonly labels: Labels;
  /** Workload selector (Service.spec.selector, ServiceEntry.workloadSelector); undefined when endpoints are explicit. */
  readonly selector?: Labels;
  /** For conflict resolution (oldest wins, then namespace/name): ISO timestamp or '' when unknown. */
  readonly creationTimestamp: string;
}

export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'DRAINING';

/** One address:port serving a service port (Istio's IstioEndpoint). */
export interface Endpoint {
  /** The service hostname and port number this endpoint serves. */
  readonly hostname: string;
  readonly servicePort: number;
  readonly servicePortName: string;
  readonly address: string;
  /** Port on the workload (target port). */
  readonly port: number;
  readonly labels: Labels;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Workload name (Pod, WorkloadEntry or local workload). */
  readonly workloadName: string;
  readonly locality: Locality;
  readonly network: string;
  /** Load balancing weight (WorkloadEntry.weight); 1 when unset. */
  readonly weight: number;
  readonly health: HealthStatus;
  /** `istio` when the workload has a sidecar (mTLS capable), else `disabled`. */
  readonly tlsMode: 'istio' | 'disabled';
}

export type WorkloadKind = 'Pod' | 'WorkloadEntry' | 'Local';

/** A running instance that can back services: a Pod, a WorkloadEntry, or a local workload. */
export interface Workload {
  readonly kind: WorkloadKind;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly serviceAccount: string;
  readonly address: string;
  /** Named ports (container ports, WorkloadEntry.ports) for targetPort/port-name resolution. */
  readonly ports: Readonly<Record<string, number>>;
  readonly locality: Locality;
  readonly network: string;
  readonly weight: number;
  readonly health: HealthStatus;
  readonly tlsMode: 'istio' | 'disabled';
}
