// The mesh snapshot (Istio's PushContext): every validated resource and the service registry, indexed
// the way translation asks, built in one place (build-snapshot.ts), frozen, then shared by every proxy's
// translation until the next change. Nothing here is mutated after construction.
//
// Host names are already resolved when a view is built: short names in VirtualService hosts and
// destinations and DestinationRule hosts are FQDNs relative to the resource's namespace
// (`reviews` in `default` -> `reviews.default.svc.cluster.local`), gateway references are `ns/name`.

import type { Issue } from '../lib/issue.js';
import type { VirtualServiceSpec } from '../api/networking/virtual-service.js';
import type { DestinationRuleSpec } from '../api/networking/destination-rule.js';
import type { Server } from '../api/networking/gateway.js';
import type { SidecarSpec } from '../api/networking/sidecar.js';
import type { Endpoint, Labels, Service, ServicePort, Workload } from '../registry/types.js';
import type { MeshConfig } from './mesh-config.js';
import type { PilotFeatures } from './pilot-features.js';
import type { AuthorizationPolicy } from '../api/security/authorization-policy.js';
import type { PeerAuthentication } from '../api/security/peer-authentication.js';
import type { RequestAuthentication } from '../api/security/request-authentication.js';
import type { WasmPlugin } from '../api/extensions/wasm-plugin.js';
import type { Telemetry } from '../api/telemetry/telemetry.js';

/** Identity of a config resource in dumps and errors: `Kind/namespace/name`. */
export interface ConfigRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface VirtualServiceView {
  readonly ref: ConfigRef;
  readonly namespace: string;
  readonly name: string;
  /** spec.hosts as FQDNs (wildcards kept). */
  readonly hosts: readonly string[];
  /** `mesh` or `namespace/name` of the Istio Gateway. */
  readonly gateways: readonly string[];
  /**
   * The spec with destination hosts as FQDNs and delegate routes merged in (Istio's
   * mergeVirtualServicesIfNeeded): a root's route with `delegate` is replaced by the delegate's routes,
   * each match merged with the root's.
   */
  readonly spec: VirtualServiceSpec;
  /** Namespaces this VirtualService is visible to: `*` or names. */
  readonly exportTo: readonly string[];
  /** For Istio's conflict order: oldest first, then namespace/name. */
  readonly creationTimestamp: string;
  /**
   * `gateway` for VirtualServices generated from the Gateway API (Istio's `internal.istio.io/route-semantics:
   * gateway` annotation, model.UseGatewaySemantics): HTTP routes translate with gateway semantics
   * (path-separated prefixes, a rewrite to `/` strips the prefix, a missing cluster answers 500).
   */
  readonly semantics?: 'gateway';
}

export interface DestinationRuleView {
  readonly ref: ConfigRef;
  /** Every DestinationRule merged into this view (Istio merges rules for one host in one namespace). */
  readonly refs: readonly ConfigRef[];
  readonly namespace: string;
  /** spec.host as an FQDN. */
  readonly host: string;
  readonly spec: DestinationRuleSpec;
  readonly selector?: Labels;
  readonly exportTo: readonly string[];
}

export interface GatewayView {
  readonly ref: ConfigRef;
  /** `namespace/name`, as VirtualServices refer to it. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly selector: Labels;
  readonly servers: readonly Server[];
}

export interface SidecarView {
  readonly ref: ConfigRef;
  readonly namespace: string;
  readonly selector?: Labels;
  readonly spec: SidecarSpec;
}

/**
 * A Kubernetes Secret as translation reads it (credentialName certificates): `data` with `stringData` merged
 * over it, each value standard padded base64. Values are secret: never log them or put them in an issue.
 */
export interface SecretView {
  readonly ref: ConfigRef;
  readonly namespace: string;
  readonly name: string;
  /** `type`, `Opaque` when unset. */
  readonly type: string;
  readonly data: Readonly<Record<string, string>>;
}

/** A service port this workload serves (Istio's ServiceTarget): inbound listeners and clusters come from these. */
export interface ServiceTarget {
  readonly service: Service;
  readonly port: ServicePort;
  /** The port the workload listens on. */
  readonly targetPort: number;
}

/** The workload a proxy runs for, as far as the snapshot can tell from its namespace, labels and IP. */
export interface ProxyScope {
  readonly namespace: string;
  readonly labels: Labels;
  readonly ipAddresses: readonly string[];
}

export interface MeshSnapshot {
  /** Grows with every rebuild; pushed proxies are tagged with it. */
  readonly version: string;
  readonly mesh: MeshConfig;
  /** istiod's feature flags (PILOT_* variables); the same object for every snapshot of one control plane. */
  readonly features: PilotFeatures;
  /** Every service, sorted by hostname then namespace. */
  readonly services: readonly Service[];
  readonly workloads: readonly Workload[];
  /** Errors that made part of the config unusable for translation (e.g. a missing delegate); reported, never half-applied. */
  readonly problems: readonly Issue[];

  /** Services visible from `namespace` (exportTo), one per hostname (Istio's precedence: own namespace, then oldest). */
  servicesVisibleTo(namespace: string): readonly Service[];
  /** The service `hostname` names for a proxy in `namespace`, if visible. */
  serviceFor(hostname: string, namespace: string): Service | undefined;
  /** Endpoints of the service `hostname` on service port `port`, sorted by address then port. */
  endpoints(hostname: string, port: number): readonly Endpoint[];
  /** Service ports the workload in scope serves (Kubernetes selector / ServiceEntry workloadSelector match). */
  serviceTargets(scope: ProxyScope): readonly ServiceTarget[];

  /** VirtualServices bound to `gateway` (`mesh` or `ns/name`) and visible from `namespace`, in Istio's order. */
  virtualServices(namespace: string, gateway: string): readonly VirtualServiceView[];
  /**
   * The DestinationRule that applies to `hostname` for a proxy, with Istio's precedence: a rule in the
   * proxy's namespace (workload-selected first), then the service's namespace, then the root namespace.
   */
  destinationRule(scope: ProxyScope, hostname: string): DestinationRuleView | undefined;
  /** Gateways whose selector matches the proxy's labels (any namespace, as Istio without scoping). */
  gatewaysFor(scope: ProxyScope): readonly GatewayView[];
  /** The Secret `namespace/name`, if there is one (gateway credentials; Istio's credentials controller). */
  secret(namespace: string, name: string): SecretView | undefined;
  /** The Sidecar resource in effect for the workload: workload-selected in its namespace, else the namespace default, else the root namespace default. */
  sidecarFor(scope: ProxyScope): SidecarView | undefined;

  /** AuthorizationPolicies of `namespace`, oldest first (Istio's sortConfigByCreationTime). */
  authorizationPolicies(namespace: string): readonly AuthorizationPolicy[];
  /** PeerAuthentications of `namespace`, oldest first. */
  peerAuthentications(namespace: string): readonly PeerAuthentication[];
  /** RequestAuthentications of `namespace`, oldest first. */
  requestAuthentications(namespace: string): readonly RequestAuthentication[];
  /** WasmPlugins of `namespace`, oldest first, then by name (Istio's sortConfigByCreationTime). */
  wasmPlugins(namespace: string): readonly WasmPlugin[];
  /** Telemetry resources of `namespace`, oldest first (Istio's getTelemetries: sortConfigByCreationTime). */
  telemetries(namespace: string): readonly Telemetry[];
  /**
   * The JWKS document fetched for a `jwksUri` (istiod resolves remote keys and sends them inline), or
   * undefined when it was never fetched. A failed fetch is reported by the resolver as an empty string.
   */
  jwks(uri: string): string | undefined;
}
