// The connection manager's tracing decision (Envoy ConnectionManagerUtility::mutateTracingRequestHeader with
// the default UUID request-id extension, use_request_id_for_trace_sampling and pack_trace_reason on):
//  - the decision rides in the x-request-id itself: the character at index 14 (a UUIDv4's version digit) is
//    `a` (service forced), `9` (sampled) or `b` (client forced); a request arriving with one is already
//    decided, so every proxy on the path agrees;
//  - otherwise, in order: `x-client-trace-id` within client_sampling forces it (ClientForced), then
//    `x-envoy-force-trace` (ServiceForced), then random_sampling, tested against the request id's first 8
//    hex digits mod 10,000 (so the same id samples the same everywhere);
//  - overall_sampling, on the same number, can still turn a positive decision off;
//  - no usable x-request-id: not traced.
// The decision is written back into x-request-id (`4` when not traceable). Sampling percentages are
// compiled to numerators over 10,000 (the HCM converts its Percent fields that way). An incoming sampled
// traceparent or B3 context overrides this decision in the tracer (span.ts).

import type { HeaderMap } from '../http/headers.js';
import type { Random } from '../lib/random.js';

export type TraceReason = 'not_traceable' | 'sampling' | 'service_forced' | 'client_forced';

/** Numerators over 10,000 (Percent 10.0 = 1000). */
export interface SamplingConfig {
  readonly client: number;
  readonly random: number;
  readonly overall: number;
}

const TRACE_BYTE = 14;

/** Percent (0..100, HCM Tracing's client/random/overall_sampling) as a numerator over 10,000; unset = 100 %. */
export function percentToTenThousandths(value: number | undefined): number {
  if (value === undefined) return 10_000;
  return Math.min(10_000, Math.max(0, Math.round(value * 100)));
}

function requestId(h: HeaderMap): string | undefined {
  const v = h['x-request-id'];
  return v === undefined ? undefined : typeof v === 'string' ? v : v[0];
}

/** UUIDRequestIDExtension::getInteger: the first 8 hex digits. */
function idInteger(id: string): number | undefined {
  if (id.length < 8) return undefined;
  const s = id.slice(0, 8);
  if (!/^[0-9a-fA-F]{8}$/.test(s)) return undefined;
  return parseInt(s, 16);
}

function reasonOf(id: string): TraceReason {
  if (id.length !== 36) return 'not_traceable';
  switch (id[TRACE_BYTE]) {
    case 'a':
      return 'service_forced';
    case '9':
      return 'sampling';
    case 'b':
      return 'client_forced';
    default:
      return 'not_traceable';
  }
}

const REASON_CHAR: Record<TraceReason, string> = { not_traceable: '4', sampling: '9', service_forced: 'a', client_forced: 'b' };

function setReason(h: HeaderMap, id: string, reason: TraceReason): void {
  if (id.length !== 36) return;
  h['x-request-id'] = `${id.slice(0, TRACE_BYTE)}${REASON_CHAR[reason]}${id.slice(TRACE_BYTE + 1)}`;
}

/** The tracing decision for a request; mutates its x-request-id to carry it. */
export function decideTrace(h: HeaderMap, s: SamplingConfig, random: Random): TraceReason {
  const id = requestId(h);
  if (id === undefined) return 'not_traceable';
  const n = idInteger(id);
  if (n === undefined) return 'not_traceable';
  const result = n % 10_000;
  let reason = reasonOf(id);
  if (reason === 'not_traceable') {
    if (h['x-client-trace-id'] !== undefined && Math.floor(random.next() * 10_000) < s.client) reason = 'client_forced';
    else if (h['x-envoy-force-trace'] !== undefined) reason = 'service_forced';
    else if (result < s.random) reason = 'sampling';
    if (reason !== 'not_traceable') setReason(h, id, reason);
  }
  if (reason !== 'not_traceable' && !(result < s.overall)) {
    reason = 'not_traceable';
    setReason(h, id, reason);
  }
  return reason;
}
