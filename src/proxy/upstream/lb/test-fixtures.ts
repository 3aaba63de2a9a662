// Test-only builders for load-balancer tests: compact endpoint specs into ClusterLoadAssignments and
// HostSets, cluster protos from JSON-ish init objects, a fake health source and pick tallies.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { ClusterSchema, type Cluster } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { HealthStatus } from '../../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import { seededRandom, type Random } from '../../lib/random.js';
import { hostSetFromAssignment, type Host, type HostSet } from '../host.js';
import type { LbDeps, LoadBalancer, PickContext } from './types.js';

export interface EndpointSpec {
  /** `ip:port` */
  readonly addr: string;
  readonly weight?: number;
  readonly health?: keyof typeof HealthStatus;
  readonly hostname?: string;
}

export interface LocalitySpec {
  readonly zone?: string;
  readonly priority?: number;
  readonly weight?: number;
  readonly endpoints: readonly (EndpointSpec | string)[];
}

export function assignment(localities: readonly LocalitySpec[], overprovisioningFactor?: number): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName: 'test',
    ...(overprovisioningFactor !== undefined ? { policy: { overprovisioningFactor } } : {}),
    endpoints: localities.map((l) => ({
      locality: { region: 'r', zone: l.zone ?? '', subZone: '' },
      priority: l.priority ?? 0,
      ...(l.weight !== undefined ? { loadBalancingWeight: l.weight } : {}),
      lbEndpoints: l.endpoints.map((e) => {
        const spec: EndpointSpec = typeof e === 'string' ? { addr: e } : e;
        const i = spec.addr.lastIndexOf(':');
        return {
          healthStatus: HealthStatus[spec.health ?? 'UNKNOWN'],
          ...(spec.weight !== undefined ? { loadBalancingWeight: spec.weight } : {}),
          hostIdentifier: {
            case: 'endpoint' as const,
            value: {
              hostname: spec.hostname ?? '',
              address: {
                address: {
                  case: 'socketAddress' as const,
                  value: { address: spec.addr.slice(0, i), portSpecifier: { case: 'portValue' as const, value: Number(spec.addr.slice(i + 1)) } },
                },
              },
            },
          },
        };
      }),
    })),
  });
}

export function hostSet(localities: readonly LocalitySpec[], overprovisioningFactor?: number): HostSet {
  return hostSetFromAssignment(assignment(localities, overprovisioningFactor));
}

export function cluster(init: MessageInitShape<typeof ClusterSchema> = {}): Cluster {
  return create(ClusterSchema, { name: 'test', ...init });
}

/** LbDeps with a seeded random, settable active requests and ejections, and a health version. */
export class FakeDeps implements LbDeps {
  readonly random: Random;
  readonly active = new Map<string, number>();
  readonly ejected = new Set<string>();
  private v = 0;

  constructor(seed = 42) {
    this.random = seededRandom(seed);
  }

  activeRequests(h: Host): number {
    return this.active.get(h.key) ?? 0;
  }

  isEjected(h: Host): boolean {
    return this.ejected.has(h.key);
  }

  healthVersion(): number {
    return this.v;
  }

  eject(key: string): void {
    this.ejected.add(key);
    this.v++;
  }

  uneject(key: string): void {
    this.ejected.delete(key);
    this.v++;
  }
}

/** Picks `n` times and counts picks per host key ('none' for no host). */
export function tally(lb: LoadBalancer, n: number, ctx?: (i: number) => PickContext): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = lb.pick(ctx?.(i))?.key ?? 'none';
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

/** Addresses `10.0.0.<i>:80` for i in 1..n. */
export function addrs(n: number, base = 0): string[] {
  return Array.from({ length: n }, (_, i) => `10.0.0.${base + i + 1}:80`);
}
