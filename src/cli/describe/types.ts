// The input and the output of `isthmus x describe`: what the command gathers (the workload, the control
// plane's config, the proxy) and the structured description it prints with `-o json|yaml`, which the text
// renderer turns into istioctl's `x describe pod` layout. Plain data only.

import type { Origin, Resource } from '../../api/resource.js';

/** A registered workload (the control plane's /v1/workloads, a Pod or WorkloadEntry in the config, or a proxy's node). */
export interface WorkloadInfo {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly address: string;
  readonly serviceAccount: string;
  /** Named ports (`http: 9080`). */
  readonly ports: Readonly<Record<string, number>>;
  /** Where it was found: `workload API`, `config`, or `proxy`. */
  readonly source?: string;
}

/** A validated config object and where it was read from (a ResourceEntry fits). */
export interface ConfigInput {
  readonly resource: Resource<unknown>;
  readonly origin?: Origin;
}

export interface ProxyInfo {
  /** `pod.namespace`. */
  readonly id: string;
  readonly type: string;
  /** SYNCED when every type the proxy watches is acknowledged, else the worst status (STALE, NOT SENT, ERROR). */
  readonly status: string;
  readonly adminUrl?: string;
}

/**
 * What the workload's own sidecar has, read from its config dump: per `host:port` of an outbound
 * cluster, the DestinationRule recorded in its `istio` metadata (`name.namespace`, '' for none), and per
 * outbound virtual host (`host:port`), the VirtualServices its routes came from.
 */
export interface SidecarRefs {
  readonly clusters: Readonly<Record<string, string>>;
  readonly virtualHosts: Readonly<Record<string, readonly string[]>>;
}

export interface DescribeInput {
  readonly workload: WorkloadInfo;
  readonly config: readonly ConfigInput[];
  /** Every workload the mesh knows, to find the ingress gateways' pods. */
  readonly workloads: readonly WorkloadInfo[];
  /** The workload's proxy; undefined when none is connected (the workload has no sidecar). */
  readonly proxy?: ProxyInfo;
  /** Undefined when the proxy's config dump was not read. */
  readonly sidecar?: SidecarRefs;
  /** Mesh config rootNamespace (default istio-system). */
  readonly rootNamespace?: string;
  /** Cluster DNS suffix (default cluster.local). */
  readonly domainSuffix?: string;
  /** The address gateways listen on (default 127.0.0.1, as `isthmus up` binds them). */
  readonly gatewayHost?: string;
}

export interface ObjectRef {
  readonly name: string;
  readonly namespace: string;
  readonly origin?: Origin;
}

export interface PodPort {
  readonly name: string;
  readonly port: number;
}

export interface PodSummary {
  readonly name: string;
  readonly namespace: string;
  readonly revision: string;
  readonly address: string;
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly PodPort[];
  readonly source?: string;
  readonly proxy?: ProxyInfo;
}

export interface ServicePortSummary {
  readonly name: string;
  readonly port: number;
  /** HTTP, TCP ..., or `auto-detect`. */
  readonly protocol: string;
  readonly targetPort?: number;
  /** Why the port reaches no pod port. */
  readonly problem?: string;
}

export interface PolicySummary {
  readonly tlsMode?: string;
  /** `load balancer`, `connection pool`, `outlier detection`, as present. */
  readonly policies: readonly string[];
}

export interface PortPolicySummary extends PolicySummary {
  readonly port: number;
}

export interface DestinationRuleSummary extends ObjectRef {
  /** spec.host as written. */
  readonly host: string;
  /** Other rules for the same host in the same namespace that Istio merges into this one (`name.namespace`). */
  readonly mergedWith: readonly string[];
  readonly matchingSubsets: readonly string[];
  readonly nonMatchingSubsets: readonly string[];
  /** Undefined: the rule has no traffic policy. */
  readonly trafficPolicy?: PolicySummary & { readonly portLevel: readonly PortPolicySummary[] };
  readonly notes: readonly string[];
}

/** Where a route destination sends traffic, seen from the workload. */
export type DestinationTarget =
  /** This workload's service, and a subset it matches (or no subset). */
  | 'workload'
  /** This workload's service, a subset whose labels the workload does not have. */
  | 'other-subset'
  /** This workload's service, a subset no DestinationRule defines. */
  | 'unknown-subset'
  | 'other-host';

export interface DestinationSummary {
  readonly host: string;
  readonly subset?: string;
  readonly port?: number;
  readonly weight?: number;
  readonly target: DestinationTarget;
}

export interface RouteSummary {
  readonly protocol: 'http' | 'tcp' | 'tls';
  readonly index: number;
  readonly name?: string;
  /** Some destination reaches this workload. */
  readonly reachesWorkload: boolean;
  /** One entry per match condition, rendered (`/productpage`, `when headers are end-user=jason`); empty: every request. */
  readonly match: readonly string[];
  readonly fault?: string;
  /** A route without destinations: redirect, direct response or delegate. */
  readonly other?: string;
  readonly destinations: readonly DestinationSummary[];
}

export interface VirtualServiceSummary extends ObjectRef {
  readonly hosts: readonly string[];
  readonly gateways: readonly string[];
  readonly routes: readonly RouteSummary[];
}

/** What the workload's own sidecar has for one port of the service, compared with the config. */
export interface SidecarCheck {
  readonly port: number;
  /** Whether the sidecar has the outbound cluster at all. */
  readonly hasCluster: boolean;
  /** `name.namespace` of the DestinationRule on the sidecar's cluster; '' for none. */
  readonly destinationRule: string;
  /** VirtualServices the sidecar's routes for the port came from. */
  readonly virtualServices: readonly string[];
  readonly agrees: boolean;
  /** Set when the sidecar's DestinationRule differs: the config's ('' for none). */
  readonly expectedDestinationRule?: string;
  /** Set when the sidecar's VirtualServices differ: the config's. */
  readonly expectedVirtualServices?: readonly string[];
}

export interface ServiceSummary extends ObjectRef {
  /** FQDN. */
  readonly host: string;
  readonly ports: readonly ServicePortSummary[];
  readonly destinationRule?: DestinationRuleSummary;
  /** VirtualServices for the mesh (sidecars) whose hosts include the service. */
  readonly virtualServices: readonly VirtualServiceSummary[];
  readonly sidecar?: readonly SidecarCheck[];
  readonly warnings: readonly string[];
}

export type MtlsModeName = 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthenticationSummary {
  readonly mode: MtlsModeName;
  readonly portLevel: readonly { readonly port: number; readonly mode: MtlsModeName }[];
  /** Every PeerAuthentication that selects the workload (mesh, namespace, workload level). */
  readonly applied: readonly ObjectRef[];
}

export interface AuthorizationPolicyRef extends ObjectRef {
  readonly action: string;
  readonly dryRun: boolean;
  readonly rules: number;
}

export interface IngressExposure {
  /** `namespace/name` of the Gateway. */
  readonly gateway: string;
  /** `http://127.0.0.1:8080` per HTTP(S) server port. */
  readonly urls: readonly string[];
  /** Gateway workloads (`name.namespace`). */
  readonly pods: readonly string[];
  readonly service: string;
  readonly virtualService: VirtualServiceSummary;
}

export interface WorkloadDescription {
  readonly pod: PodSummary;
  /** Pod-level warnings and suggestions, in istioctl's words. */
  readonly warnings: readonly string[];
  readonly services: readonly ServiceSummary[];
  readonly peerAuthentication: PeerAuthenticationSummary;
  readonly authorizationPolicies: readonly AuthorizationPolicyRef[];
  readonly ingress: readonly IngressExposure[];
  /** Why gateway VirtualServices that route here expose nothing (no gateway pod, a missing Gateway). */
  readonly ingressNotes: readonly string[];
}
