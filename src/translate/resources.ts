// What translation produces for one proxy: plain protobuf-es messages per xDS type, each list sorted by
// resource name, and the issues met on the way. Packing into Any, versioning and sending belong to the xDS server.

import type { Listener } from '../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../xds/gen/envoy/config/route/v3/route_pb.js';
import type { Cluster } from '../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Secret } from '../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { Issue } from '../lib/issue.js';

export interface ProxyResources {
  readonly listeners: readonly Listener[];
  readonly routes: readonly RouteConfiguration[];
  readonly clusters: readonly Cluster[];
  readonly endpoints: readonly ClusterLoadAssignment[];
  readonly secrets: readonly Secret[];
  /**
   * What translation could not apply for this proxy (warnings: dropped servers, conflicting routes, missing
   * credentials...), each naming the resource (path) and the reason; sorted and without duplicates. Never
   * holds secret values. Not sent to the proxy.
   */
  readonly issues: readonly Issue[];
}
