// Test support (not used by production code): a tiny MeshSnapshot made of services with endpoints and
// exportTo, and a small translator building real Envoy resources from it (one EDS Cluster, one
// ClusterLoadAssignment, one Listener and one RouteConfiguration per visible service port), so the ADS
// server can be tested before and independently of src/translate/. Visibility follows exportTo, so two
// proxies in different namespaces can see different config.

import { create } from '@bufbuild/protobuf';
import type { MeshSnapshot } from '../../../src/model/snapshot.js';
import type { Proxy } from '../../../src/model/proxy.js';
import { DEFAULT_MESH_CONFIG } from '../../../src/model/mesh-config.js';
import { DEFAULT_PILOT_FEATURES } from '../../../src/model/pilot-features.js';
import type { Endpoint, Service } from '../../../src/registry/types.js';
import { NO_LOCALITY } from '../../../src/registry/types.js';
import type { ProxyResources } from '../../../src/translate/resources.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import { SecretSchema } from '../../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { listenerName, subsetKey } from '../../../src/xds/names.js';

export interface FakeService {
  readonly host: string;
  readonly namespace: string;
  readonly port: number;
  /** Endpoint addresses (each serves `port`). */
  readonly endpoints?: readonly string[];
  /** Namespaces that see the service; default everyone. */
  readonly exportTo?: readonly string[];
}

export function fakeSnapshot(version: string, fakes: readonly FakeService[], opts: { secrets?: readonly string[] } = {}): MeshSnapshot & { readonly secretNames: readonly string[] } {
  const services: Service[] = fakes
    .map(
      (f): Service => ({
        hostname: f.host,
        namespace: f.namespace,
        name: f.host.split('.')[0] ?? f.host,
        source: 'Kubernetes',
        ports: [{ name: 'http', port: f.port, protocol: 'HTTP' }],
        addresses: [],
        resolution: 'STATIC',
        location: 'MESH_INTERNAL',
        exportTo: f.exportTo ?? ['*'],
        labels: {},
        creationTimestamp: '',
      }),
    )
    .sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  const endpoints = new Map<string, Endpoint[]>();
  for (const f of fakes) {
    endpoints.set(
      `${f.host}:${f.port}`,
      (f.endpoints ?? []).map((address) => ({
        hostname: f.host,
        servicePort: f.port,
        servicePortName: 'http',
        address,
        port: f.port,
        labels: {},
        namespace: f.namespace,
        serviceAccount: 'default',
        workloadName: address,
        locality: NO_LOCALITY,
        network: '',
        weight: 1,
        health: 'HEALTHY',
        tlsMode: 'istio',
      })),
    );
  }
  const visible = (s: Service, ns: string): boolean => s.exportTo.includes('*') || s.exportTo.includes(ns);
  return {
    version,
    mesh: DEFAULT_MESH_CONFIG,
    features: DEFAULT_PILOT_FEATURES,
    services,
    workloads: [],
    problems: [],
    secretNames: opts.secrets ?? [],
    servicesVisibleTo: (ns) => services.filter((s) => visible(s, ns)),
    serviceFor: (host, ns) => services.find((s) => s.hostname === host && visible(s, ns)),
    endpoints: (host, port) => endpoints.get(`${host}:${port}`) ?? [],
    serviceTargets: () => [],
    virtualServices: () => [],
    destinationRule: () => undefined,
    gatewaysFor: () => [],
    secret: () => undefined,
    sidecarFor: () => undefined,
    authorizationPolicies: () => [],
    peerAuthentications: () => [],
    requestAuthentications: () => [],
    jwks: () => undefined,
    wasmPlugins: () => [],
    telemetries: () => [],
  };
}

/** Translates a fakeSnapshot (any MeshSnapshot, really) into a few real resources per visible service port. */
export function fakeTranslate(snapshot: MeshSnapshot, proxy: Proxy): ProxyResources {
  const services = snapshot.servicesVisibleTo(proxy.namespace);
  const clusters = [];
  const endpoints = [];
  const listeners = [];
  const routes = [];
  for (const s of services) {
    for (const p of s.ports) {
      const name = subsetKey('outbound', undefined, s.hostname, p.port);
      clusters.push(
        create(ClusterSchema, {
          name,
          clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
          edsClusterConfig: { serviceName: name, edsConfig: { configSourceSpecifier: { case: 'ads', value: {} } } },
        }),
      );
      endpoints.push(
        create(ClusterLoadAssignmentSchema, {
          clusterName: name,
          endpoints: [
            {
              locality: {},
              loadBalancingWeight: 1,
              lbEndpoints: snapshot.endpoints(s.hostname, p.port).map((e) => ({
                hostIdentifier: {
                  case: 'endpoint' as const,
                  value: { address: { address: { case: 'socketAddress' as const, value: { address: e.address, portSpecifier: { case: 'portValue' as const, value: e.port } } } } },
                },
              })),
            },
          ],
        }),
      );
      listeners.push(
        create(ListenerSchema, {
          name: listenerName('0.0.0.0', p.port),
          address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: p.port } } } },
        }),
      );
      routes.push(create(RouteConfigurationSchema, { name: `${s.hostname}:${p.port}`, virtualHosts: [{ name: `${s.hostname}:${p.port}`, domains: [s.hostname] }] }));
    }
  }
  const secretNames = 'secretNames' in snapshot && Array.isArray(snapshot.secretNames) ? (snapshot.secretNames as string[]) : [];
  const secrets = secretNames.map((n) => create(SecretSchema, { name: n }));
  return { clusters, endpoints, listeners, routes, secrets, issues: [] };
}

/** The cluster (and EDS) name fakeTranslate gives a service port. */
export const clusterName = (host: string, port: number): string => subsetKey('outbound', undefined, host, port);
