// DestinationRule outlierDetection -> Envoy cluster outlier_detection, as Istio's applyOutlierDetection
// (pilot/pkg/networking/core/cluster_traffic_policy.go): success-rate ejection is always off; consecutive
// 5xx / gateway-error detectors are set only when the rule names them (0 disables, any other value is
// enforced 100%); unset interval, ejection time and percentages keep Envoy's defaults. Istio also sets the
// panic threshold to minHealthPercent (0 unless given), since Kubernetes services often have few pods.
// outlierDetectionHttpErrorCodes (istio master) is not applied: the generated Envoy API has no
// HttpProtocolOptions.outlier_detection.

import { create } from '@bufbuild/protobuf';
import type { OutlierDetection } from '../../api/networking/destination-rule.js';
import { Cluster_CommonLbConfigSchema, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { OutlierDetectionSchema } from '../../xds/gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import { PercentSchema } from '../../xds/gen/envoy/type/v3/percent_pb.js';
import { durationFromString } from '../proto-values.js';

export function applyOutlierDetection(c: Cluster, od: OutlierDetection | undefined): void {
  if (od === undefined) return;
  const out = create(OutlierDetectionSchema, { enforcingSuccessRate: 0 });
  if (od.consecutive5xxErrors !== undefined) {
    out.consecutive5xx = od.consecutive5xxErrors;
    out.enforcingConsecutive5xx = od.consecutive5xxErrors > 0 ? 100 : 0;
  }
  if (od.consecutiveGatewayErrors !== undefined) {
    out.consecutiveGatewayFailure = od.consecutiveGatewayErrors;
    out.enforcingConsecutiveGatewayFailure = od.consecutiveGatewayErrors > 0 ? 100 : 0;
  }
  if (od.interval !== undefined) out.interval = durationFromString(od.interval);
  if (od.baseEjectionTime !== undefined) out.baseEjectionTime = durationFromString(od.baseEjectionTime);
  if ((od.maxEjectionPercent ?? 0) > 0) out.maxEjectionPercent = od.maxEjectionPercent;
  if (od.splitExternalLocalOriginErrors === true) {
    out.splitExternalLocalOriginErrors = true;
    if ((od.consecutiveLocalOriginFailures ?? 0) > 0) {
      out.consecutiveLocalOriginFailure = od.consecutiveLocalOriginFailures;
      out.enforcingConsecutiveLocalOriginFailure = 100;
    }
    out.enforcingLocalOriginSuccessRate = 0;
  }
  c.outlierDetection = out;
  const minHealthPercent = od.minHealthPercent ?? 0;
  if (minHealthPercent >= 0) {
    c.commonLbConfig ??= create(Cluster_CommonLbConfigSchema, {});
    c.commonLbConfig.healthyPanicThreshold = create(PercentSchema, { value: minHealthPercent });
  }
}
