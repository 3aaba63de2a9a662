// Istio's conversions of its percentages to Envoy's FractionalPercent (pilot/pkg/networking/core/route/
// route.go translatePercentToFractionalPercent / translateIntegerToFractionalPercent): a `Percent` (double,
// 0-100) becomes parts per million, truncated as Go's uint32(float64) does; an integer percent stays per
// hundred.

import { create } from '@bufbuild/protobuf';
import {
  FractionalPercentSchema,
  FractionalPercent_DenominatorType as Denominator,
  type FractionalPercent,
} from '../../xds/gen/envoy/type/v3/percent_pb.js';
import { RuntimeFractionalPercentSchema, type RuntimeFractionalPercent } from '../../xds/gen/envoy/config/core/v3/base_pb.js';

/** `value` percent (e.g. 0.1) as parts per million: `uint32(p.Value * 10000)`. */
export function percentToFractional(value: number): FractionalPercent {
  return create(FractionalPercentSchema, { numerator: Math.max(0, Math.trunc(value * 10000)), denominator: Denominator.MILLION });
}

/** An integer percent as parts per hundred. */
export function integerToFractional(value: number): FractionalPercent {
  return create(FractionalPercentSchema, { numerator: Math.max(0, Math.trunc(value)), denominator: Denominator.HUNDRED });
}

export function runtimeFraction(defaultValue: FractionalPercent): RuntimeFractionalPercent {
  return create(RuntimeFractionalPercentSchema, { defaultValue });
}
