// VirtualService `retries` to Envoy's RetryPolicy (pilot/pkg/networking/core/route/retry/retry.go).
// Outbound default (no `retries`): 2 retries on
// `connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes`, the previous-hosts retry
// predicate (dropped under consistent hashing, which must keep retrying the same host) and 5 host selection
// attempts. `attempts: 0` (or less) disables retries. Numbers in `retryOn` that are HTTP status codes Go
// knows become retriable_status_codes (adding `retriable-status-codes` when missing); everything else, gRPC
// conditions included, stays in retry_on. Inbound routes retry only `reset-before-request`.
//
// The retry host predicate and retry priority carry typed configs whose messages Isthmus may not have
// generated (envoy.extensions.retry.*). They are packed when XDS_REGISTRY knows the message and otherwise
// named only, which Envoy resolves by name for previous_hosts (an empty config).

import { create, type DescMessage } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import type { HTTPRetry } from '../../api/networking/virtual-service.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import {
  RetryPolicySchema,
  RetryPolicy_RetryBackOffSchema,
  RetryPolicy_RetryHostPredicateSchema,
  RetryPolicy_RetryPrioritySchema,
  type RetryPolicy,
  type RetryPolicy_RetryHostPredicate,
  type RetryPolicy_RetryPriority,
} from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { durationFromString } from '../proto-values.js';

export const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
export const DEFAULT_INBOUND_RETRY_ON = 'reset-before-request';
const DEFAULT_NUM_RETRIES = 2;
const HOST_SELECTION_RETRY_MAX_ATTEMPTS = 5n;

const PREVIOUS_HOSTS = 'envoy.retry_host_predicates.previous_hosts';
const PREVIOUS_HOSTS_TYPE = 'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate';
const PREVIOUS_PRIORITIES = 'envoy.retry_priorities.previous_priorities';
const PREVIOUS_PRIORITIES_TYPE = 'envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig';

/** HTTP status codes Go's http.StatusText names: only these count as status codes in `retryOn`. */
const GO_STATUS_CODES: ReadonlySet<number> = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423,
  424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** Any of `typeName` built from `init` when the registry knows the message, else undefined. */
function typedConfigIfKnown(typeName: string, init: Record<string, unknown>): Any | undefined {
  const desc: DescMessage | undefined = XDS_REGISTRY.getMessage(typeName);
  return desc === undefined ? undefined : anyPack(desc, create(desc, init));
}

function previousHostsPredicate(): RetryPolicy_RetryHostPredicate {
  const typed = typedConfigIfKnown(PREVIOUS_HOSTS_TYPE, {});
  return create(RetryPolicy_RetryHostPredicateSchema, {
    name: PREVIOUS_HOSTS,
    ...(typed !== undefined ? { configType: { case: 'typedConfig' as const, value: typed } } : {}),
  });
}

function previousPriorities(): RetryPolicy_RetryPriority {
  const typed = typedConfigIfKnown(PREVIOUS_PRIORITIES_TYPE, { updateFrequency: 2 });
  return create(RetryPolicy_RetryPrioritySchema, {
    name: PREVIOUS_PRIORITIES,
    ...(typed !== undefined ? { configType: { case: 'typedConfig' as const, value: typed } } : {}),
  });
}

/** parseRetryOn: status codes split out of the comma list, blanks dropped, the rest kept in order. */
export function parseRetryOn(retryOn: string): { retryOn: string; codes: number[] } {
  const codes: number[] = [];
  const keep: string[] = [];
  for (const raw of retryOn.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const n = /^[+-]?\d+$/.test(part) ? Number(part) : Number.NaN;
    if (GO_STATUS_CODES.has(n)) codes.push(n);
    else keep.push(part);
  }
  return { retryOn: keep.join(','), codes };
}

function applyRetryOn(out: RetryPolicy, retryOn: string | undefined): void {
  if (retryOn === undefined || retryOn === '') return;
  const parsed = parseRetryOn(retryOn);
  out.retryOn = parsed.retryOn;
  out.retriableStatusCodes = parsed.codes;
  if (parsed.codes.length > 0 && !out.retryOn.includes('retriable-status-codes')) out.retryOn += ',retriable-status-codes';
}

/** retry.ConvertPolicy: undefined `policy` is the mesh default; undefined result means no retries. */
export function convertRetryPolicy(policy: HTTPRetry | undefined, consistentHash: boolean): RetryPolicy | undefined {
  const out = create(RetryPolicySchema, {
    numRetries: DEFAULT_NUM_RETRIES,
    retryOn: DEFAULT_RETRY_ON,
    hostSelectionRetryMaxAttempts: HOST_SELECTION_RETRY_MAX_ATTEMPTS,
    retryHostPredicate: consistentHash ? [] : [previousHostsPredicate()],
  });
  if (policy === undefined) return out;
  const attempts = policy.attempts ?? 0;
  if (attempts <= 0) return undefined;
  out.numRetries = attempts;
  applyRetryOn(out, policy.retryOn);
  if (policy.perTryTimeout !== undefined) out.perTryTimeout = durationFromString(policy.perTryTimeout);
  if (policy.retryIgnorePreviousHosts !== undefined) out.retryHostPredicate = policy.retryIgnorePreviousHosts ? [previousHostsPredicate()] : [];
  if (policy.retryRemoteLocalities === true) out.retryPriority = previousPriorities();
  if (policy.backoff !== undefined) out.retryBackOff = create(RetryPolicy_RetryBackOffSchema, { baseInterval: durationFromString(policy.backoff) });
  return out;
}

/** retry.ConvertInboundPolicy: only attempts, retryOn and backoff apply to the single local cluster. */
export function convertInboundRetryPolicy(policy: HTTPRetry | undefined): RetryPolicy | undefined {
  const out = create(RetryPolicySchema, { numRetries: DEFAULT_NUM_RETRIES, retryOn: DEFAULT_INBOUND_RETRY_ON });
  if (policy === undefined) return out;
  const attempts = policy.attempts ?? 0;
  if (attempts <= 0) return undefined;
  out.numRetries = attempts;
  applyRetryOn(out, policy.retryOn);
  if (policy.backoff !== undefined) out.retryBackOff = create(RetryPolicy_RetryBackOffSchema, { baseInterval: durationFromString(policy.backoff) });
  return out;
}
