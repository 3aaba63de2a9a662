// Sidecar inbound clusters `inbound|<port>||`, as Istio's buildInboundClusters
// (pilot/pkg/networking/core/cluster.go, cluster_builder.go buildInboundCluster):
// - without Sidecar ingress listeners, one per workload port the proxy's service targets use (the first
//   target of a port wins), sending to 127.0.0.1:<targetPort>. This is Istio's
//   `inboundTrafficPolicy: LOCALHOST` mode; Istio's default PASSTHROUGH mode would make these ORIGINAL_DST
//   clusters, which needs iptables interception Isthmus proxies do not rely on.
// - with Sidecar ingress listeners, one per listener, to its defaultEndpoint (127.0.0.1:port, 0.0.0.0:port
//   for the pod IP, unix://path), or ORIGINAL_DST when it has none.
// Only the connection pool of a DestinationRule applies (server-side capacity); a Sidecar's
// inboundConnectionPool or the ingress listener's connectionPool overrides it.

import { create } from '@bufbuild/protobuf';
import { portLevelTrafficPolicy, type TrafficPolicy } from '../../api/networking/destination-rule.js';
import { parseProtocol, type Protocol } from '../../api/networking/protocol.js';
import type { ServiceTarget } from '../../model/snapshot.js';
import type { Service } from '../../registry/types.js';
import { Cluster_DiscoveryType, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { AddressSchema, BindConfigSchema, PipeSchema, SocketAddressSchema, type Address } from '../../xds/gen/envoy/config/core/v3/address_pb.js';
import { EndpointSchema, LbEndpointSchema, LocalityLbEndpointsSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { subsetKey } from '../../xds/names.js';
import type { ProxyContext } from '../context.js';
import { durationFromSeconds, socketAddress } from '../proto-values.js';
import { buildBaseCluster } from './base-cluster.js';
import { addConfigMetadata } from './cluster-metadata.js';
import { finishCluster } from './cluster-wrapper.js';
import { applyInboundPolicy } from './traffic-policy.js';

export const LOCALHOST = '127.0.0.1';
/** Source address inbound traffic to the pod IP is bound to, so iptables does not capture it again. */
export const INBOUND_PASSTHROUGH_BIND_IPV4 = '127.0.0.6';
/** Istio's maxSecondsValue: inbound ORIGINAL_DST clusters never clean up their hosts. */
const MAX_CLEANUP_SECONDS = 9_223_372_035;

interface InboundInput {
  readonly clusterPort: number;
  /** Where traffic goes: an IP, `unix://path`, or '' for the original destination. */
  readonly bind: string;
  readonly targetPort: number;
  readonly protocol: Protocol | undefined;
  /** Services for telemetry metadata; the first also selects the DestinationRule. */
  readonly services: readonly Service[];
  /** The service port (for the DestinationRule's port-level settings). */
  readonly servicePort: number;
}

function bindAddress(bind: string, port: number): Address {
  // util.BuildAddress: the pipe's path is the bind without its `unix://` scheme.
  if (bind.startsWith('unix://')) return create(AddressSchema, { address: { case: 'pipe', value: create(PipeSchema, { path: bind.slice('unix://'.length) }) } });
  return socketAddress(bind, port);
}

/** The sidecar's connection pool for an inbound port (SidecarScope.InboundConnectionPoolForPort). */
function sidecarConnectionPool(ctx: ProxyContext, port: number): TrafficPolicy['connectionPool'] {
  const spec = ctx.sidecar?.spec;
  return spec?.ingress?.find((i) => i.port.number === port && i.connectionPool !== undefined)?.connectionPool ?? spec?.inboundConnectionPool;
}

function inboundCluster(ctx: ProxyContext, input: InboundInput): Cluster | undefined {
  const name = subsetKey('inbound', undefined, '', input.clusterPort);
  const endpoints =
    input.bind === ''
      ? []
      : [
          create(LocalityLbEndpointsSchema, {
            lbEndpoints: [create(LbEndpointSchema, { hostIdentifier: { case: 'endpoint', value: create(EndpointSchema, { address: bindAddress(input.bind, input.targetPort) }) } })],
          }),
        ];
  const type = endpoints.length > 0 ? Cluster_DiscoveryType.STATIC : Cluster_DiscoveryType.ORIGINAL_DST;
  const mc = buildBaseCluster({
    name,
    type,
    endpoints,
    protocol: input.protocol,
    services: input.services,
    proxyType: ctx.proxy.type,
    proxyIps: ctx.proxy.ipAddresses,
  });
  if (mc === undefined) return undefined;
  const c = mc.cluster;
  if (type === Cluster_DiscoveryType.ORIGINAL_DST) c.cleanupInterval = durationFromSeconds(MAX_CLEANUP_SECONDS);
  let policy: TrafficPolicy | undefined;
  const primary = input.services[0];
  const dr = primary !== undefined ? ctx.destinationRule(primary.hostname) : undefined;
  if (dr?.spec.trafficPolicy !== undefined) {
    policy = portLevelTrafficPolicy(dr.spec.trafficPolicy, input.servicePort).policy;
    // Istio only records the rule on clusters that already carry telemetry metadata.
    if (c.metadata !== undefined) addConfigMetadata(c, dr.ref);
  }
  const sidecarPool = sidecarConnectionPool(ctx, input.clusterPort);
  if (sidecarPool !== undefined) policy = { ...(policy ?? {}), connectionPool: sidecarPool };
  applyInboundPolicy(mc, policy, ctx.snapshot.mesh);
  if (input.bind !== LOCALHOST && input.bind !== '::1') {
    c.upstreamBindConfig = create(BindConfigSchema, {
      sourceAddress: create(SocketAddressSchema, { address: INBOUND_PASSTHROUGH_BIND_IPV4, portSpecifier: { case: 'portValue', value: 0 } }),
    });
  }
  return finishCluster(mc);
}

/** addTelemetryMetadata (inbound): the services on the primary target's service port, unless it is mesh-external. */
function telemetryServices(targets: readonly ServiceTarget[]): Service[] {
  const primary = targets[0];
  if (primary === undefined || primary.service.location === 'MESH_EXTERNAL') return [];
  return targets.filter((t) => t.port.port === primary.port.port).map((t) => t.service);
}

function fromServiceTargets(ctx: ProxyContext): Cluster[] {
  const byPort = new Map<number, ServiceTarget[]>();
  for (const t of ctx.serviceTargets) byPort.set(t.targetPort, [...(byPort.get(t.targetPort) ?? []), t]);
  const out: Cluster[] = [];
  for (const [port, targets] of byPort) {
    const primary = targets[0];
    if (primary === undefined) continue;
    const services = telemetryServices(targets);
    const c = inboundCluster(ctx, {
      clusterPort: port,
      bind: LOCALHOST,
      targetPort: primary.targetPort,
      protocol: primary.port.protocol,
      services,
      servicePort: primary.port.port,
    });
    if (c !== undefined) out.push(c);
  }
  return out;
}

/** The endpoint address of a Sidecar ingress defaultEndpoint; undefined when unusable. */
function ingressEndpoint(ctx: ProxyContext, defaultEndpoint: string | undefined): { bind: string; port: number } | undefined {
  if (defaultEndpoint === undefined || defaultEndpoint === '') return { bind: '', port: 0 };
  if (defaultEndpoint.startsWith('unix://')) return { bind: defaultEndpoint, port: 0 };
  const colon = defaultEndpoint.lastIndexOf(':');
  if (colon < 0) return undefined;
  const host = defaultEndpoint.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(defaultEndpoint.slice(colon + 1));
  if (!Number.isInteger(port)) return undefined;
  if (host === '0.0.0.0') return { bind: ctx.proxy.ipAddresses.find((ip) => !ip.includes(':')) ?? LOCALHOST, port };
  if (host === '::') return { bind: ctx.proxy.ipAddresses.find((ip) => ip.includes(':')) ?? '::1', port };
  if (host === LOCALHOST || host === '::1') return { bind: host, port };
  return { bind: '', port };
}

function fromSidecarIngress(ctx: ProxyContext): Cluster[] {
  const out: Cluster[] = [];
  for (const ingress of ctx.sidecar?.spec.ingress ?? []) {
    const listenPort = ingress.port.number ?? 0;
    const ep = ingressEndpoint(ctx, ingress.defaultEndpoint);
    if (ep === undefined) continue;
    // findOrCreateService: the service whose target port is the listener port, else none (no telemetry).
    const target = ctx.serviceTargets.find((t) => t.targetPort === listenPort);
    const c = inboundCluster(ctx, {
      clusterPort: listenPort,
      bind: ep.bind,
      targetPort: ep.port,
      protocol: parseProtocol(ingress.port.protocol ?? ''),
      services: target !== undefined && target.service.location !== 'MESH_EXTERNAL' ? [target.service] : [],
      servicePort: listenPort,
    });
    if (c !== undefined) out.push(c);
  }
  return out;
}

/** buildInboundClusters for a sidecar. */
export function buildInboundClusters(ctx: ProxyContext): Cluster[] {
  return (ctx.sidecar?.spec.ingress ?? []).length > 0 ? fromSidecarIngress(ctx) : fromServiceTargets(ctx);
}
