// Consistent-hash load balancing needs a hash policy on the route as well as a ring-hash/maglev cluster
// (pilot/pkg/networking/core/route/route.go ConsistentHashToHashPolicy, HashForHTTPDestination,
// hashForService). The DestinationRule the proxy sees for the destination host decides; the most specific
// setting wins: subset port-level, subset, port-level (for an explicit destination port), then top level.

import { create } from '@bufbuild/protobuf';
import type { ConsistentHashLB } from '../../api/networking/load-balancer.js';
import type { PortTrafficPolicy } from '../../api/networking/destination-rule.js';
import type { Destination } from '../../api/networking/virtual-service.js';
import { RouteAction_HashPolicySchema, type RouteAction_HashPolicy } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { ProxyContext } from '../context.js';
import { durationFromString } from '../proto-values.js';

export function hashPolicyOf(ch: ConsistentHashLB | undefined): RouteAction_HashPolicy | undefined {
  if (ch === undefined) return undefined;
  if (ch.httpHeaderName !== undefined) {
    return create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'header', value: { headerName: ch.httpHeaderName } } });
  }
  if (ch.httpCookie !== undefined) {
    const c = ch.httpCookie;
    return create(RouteAction_HashPolicySchema, {
      policySpecifier: {
        case: 'cookie',
        value: {
          name: c.name,
          path: c.path ?? '',
          ...(c.ttl !== undefined ? { ttl: durationFromString(c.ttl) } : {}),
          attributes: (c.attributes ?? []).map((a) => ({ name: a.name, value: a.value ?? '' })),
        },
      },
    });
  }
  if (ch.useSourceIp !== undefined) {
    return create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'connectionProperties', value: { sourceIp: ch.useSourceIp } } });
  }
  if (ch.httpQueryParameterName !== undefined) {
    return create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'queryParameter', value: { name: ch.httpQueryParameterName } } });
  }
  return undefined;
}

function portLevelHash(port: number | undefined, settings: readonly PortTrafficPolicy[] | undefined): ConsistentHashLB | undefined {
  if (port === undefined) return undefined;
  return settings?.find((s) => (s.port?.number ?? 0) === port)?.loadBalancer?.consistentHash;
}

/** HashForHTTPDestination: the consistent hash for a route destination, if its DestinationRule sets one. */
export function hashForDestination(ctx: ProxyContext, dest: Destination | undefined): ConsistentHashLB | undefined {
  if (dest?.host === undefined) return undefined;
  const dr = ctx.destinationRule(dest.host);
  if (dr === undefined) return undefined;
  const tp = dr.spec.trafficPolicy;
  const port = dest.port !== undefined ? (dest.port.number ?? 0) : undefined;
  const subset = (dr.spec.subsets ?? []).find((s) => s.name === (dest.subset ?? ''));
  return (
    portLevelHash(port, subset?.trafficPolicy?.portLevelSettings) ??
    subset?.trafficPolicy?.loadBalancer?.consistentHash ??
    portLevelHash(port, tp?.portLevelSettings) ??
    tp?.loadBalancer?.consistentHash
  );
}

/** hashForService: the default route of a service port without a VirtualService. */
export function hashForServicePort(ctx: ProxyContext, hostname: string, port: number): ConsistentHashLB | undefined {
  const tp = ctx.destinationRule(hostname)?.spec.trafficPolicy;
  if (tp === undefined) return undefined;
  const pls = (tp.portLevelSettings ?? []).find((s) => (s.port?.number ?? 0) === port);
  return pls?.loadBalancer?.consistentHash ?? tp.loadBalancer?.consistentHash;
}
