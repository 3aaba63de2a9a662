// The ADS client's compile hook: every accepted resource is compiled into the runtime's immutable form at
// the moment it is validated, so a resource the runtime could not run is NACKed with its problems (and the
// last good config keeps serving), and the request path never parses config.

import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { CLUSTER_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
import type { ProxyTypeUrl, ResourceByType, ResourceCompiler } from '../xds-client/validate.js';
import { compileRouteConfig } from '../http/route/compile-route-config.js';
import { compileLbProblems } from '../upstream/lb/lb-config.js';
import { outlierDetectionProblems } from '../upstream/outlier-detector.js';
import { healthCheckProblems } from '../upstream/health-checker-config.js';
import { compileCluster } from './compile-cluster.js';
import { compileListener } from './compile-listener.js';

export const compileResource: ResourceCompiler = (type: ProxyTypeUrl, m: ResourceByType[ProxyTypeUrl]) => {
  switch (type) {
    case CLUSTER_TYPE: {
      const c = m as Cluster;
      const r = compileCluster(c);
      const more = [
        ...compileLbProblems(c),
        ...(c.outlierDetection !== undefined ? outlierDetectionProblems(c.outlierDetection).map((p) => `outlier_detection.${p}`) : []),
        ...healthCheckProblems(c),
      ];
      if (!r.ok) return { ok: false, problems: [...r.problems, ...more] };
      return more.length > 0 ? { ok: false, problems: more } : r;
    }
    case LISTENER_TYPE:
      return compileListener(m as Listener);
    case ROUTE_TYPE:
      return compileRouteConfig(m as RouteConfiguration);
    default:
      return { ok: true, value: undefined };
  }
};
