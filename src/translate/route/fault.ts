// VirtualService `fault` to the per-route config of Envoy's fault filter (envoy.filters.http.fault
// HTTPFault), as pilot/pkg/networking/core/route/route.go TranslateFault: a fixed delay with its percentage
// (the deprecated integer `percent` when `percentage` is unset, 0% when neither is), an abort with an HTTP
// status or a gRPC status name (pkg/util/grpc SupportedGRPCStatus). Exponential delays and HTTP/2 errors
// are not supported and drop that half of the fault, as in Istio.

import { create } from '@bufbuild/protobuf';
import type { HTTPFaultInjection } from '../../api/networking/virtual-service.js';
import { FaultAbortSchema, HTTPFaultSchema, type FaultAbort, type HTTPFault } from '../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { FaultDelaySchema, type FaultDelay } from '../../xds/gen/envoy/extensions/filters/common/fault/v3/fault_pb.js';
import { durationFromString } from '../proto-values.js';
import { integerToFractional, percentToFractional } from './percent.js';

/** gRPC status codes by the names VirtualService `grpcStatus` takes. */
export const GRPC_STATUS_CODES: Readonly<Record<string, number>> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

function delayOf(d: NonNullable<HTTPFaultInjection['delay']>): FaultDelay | undefined {
  if (d.fixedDelay === undefined) return undefined;
  return create(FaultDelaySchema, {
    percentage: d.percentage !== undefined ? percentToFractional(d.percentage.value ?? 0) : integerToFractional(d.percent ?? 0),
    faultDelaySecifier: { case: 'fixedDelay', value: durationFromString(d.fixedDelay) },
  });
}

function abortOf(a: NonNullable<HTTPFaultInjection['abort']>): FaultAbort | undefined {
  const out = create(FaultAbortSchema, a.percentage !== undefined ? { percentage: percentToFractional(a.percentage.value ?? 0) } : {});
  if (a.httpStatus !== undefined) out.errorType = { case: 'httpStatus', value: a.httpStatus };
  else if (a.grpcStatus !== undefined) out.errorType = { case: 'grpcStatus', value: GRPC_STATUS_CODES[a.grpcStatus] ?? 0 };
  else return undefined;
  return out;
}

/** TranslateFault; an empty HTTPFault when neither half is usable (Istio packs its nil result the same way). */
export function translateFault(fault: HTTPFaultInjection): HTTPFault {
  const out = create(HTTPFaultSchema);
  const delay = fault.delay !== undefined ? delayOf(fault.delay) : undefined;
  const abort = fault.abort !== undefined ? abortOf(fault.abort) : undefined;
  if (delay !== undefined) out.delay = delay;
  if (abort !== undefined) out.abort = abort;
  return out;
}
