// Trace context on the wire: W3C Trace Context (`traceparent`, `tracestate`; the OpenTelemetry tracer's
// propagation, https://www.w3.org/TR/trace-context/) and Zipkin's B3 (`x-b3-traceid`, `x-b3-spanid`,
// `x-b3-parentspanid`, `x-b3-sampled`, `x-b3-flags`, and the single `b3` header;
// https://github.com/openzipkin/b3-propagation). Parsing is strict: a malformed header is ignored (the proxy
// then starts a new trace), as Envoy's extractors reject it. Ids are lower-case hex strings; a 64-bit B3 trace
// id stays 16 characters. Pure; no allocation beyond the result.

import type { HeaderMap } from '../http/headers.js';

export interface SpanContext {
  /** 32 hex characters (16 for a 64-bit B3 trace id). */
  readonly traceId: string;
  /** 16 hex characters: the span the context names (the parent of the next span). */
  readonly spanId: string;
  /** undefined: the sender made no decision (B3 without x-b3-sampled); the proxy decides. */
  readonly sampled: boolean | undefined;
  /** W3C tracestate, passed on unchanged ('' when absent). */
  readonly tracestate: string;
}

const HEX = /^[0-9a-f]+$/;
const ZERO = /^0+$/;

function first(h: HeaderMap, name: string): string | undefined {
  const v = h[name];
  return v === undefined ? undefined : typeof v === 'string' ? v : v[0];
}

function isId(s: string, len: number): boolean {
  return s.length === len && HEX.test(s) && !ZERO.test(s);
}

/**
 * `traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`. Version ff is invalid; a future
 * version may carry more fields after the flags (kept forward-compatible as the spec asks); all-zero ids are
 * invalid. Sampled is bit 0 of the flags.
 */
export function parseTraceparent(h: HeaderMap): SpanContext | undefined {
  const v = first(h, 'traceparent')?.trim().toLowerCase();
  if (v === undefined || v.length < 55) return undefined;
  const version = v.slice(0, 2);
  if (!HEX.test(version) || version === 'ff') return undefined;
  if (v[2] !== '-' || v[35] !== '-' || v[52] !== '-') return undefined;
  if (version === '00' ? v.length !== 55 : v.length > 55 && v[55] !== '-') return undefined;
  const traceId = v.slice(3, 35);
  const spanId = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (!isId(traceId, 32) || !isId(spanId, 16) || !HEX.test(flags)) return undefined;
  const tracestate = h['tracestate'];
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1, tracestate: tracestate === undefined ? '' : typeof tracestate === 'string' ? tracestate : tracestate.join(',') };
}

/** Sets `traceparent` (version 00) and `tracestate` (removed when empty) for a span. */
export function injectTraceparent(h: HeaderMap, traceId: string, spanId: string, sampled: boolean, tracestate: string): void {
  h['traceparent'] = `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
  if (tracestate !== '') h['tracestate'] = tracestate;
  else delete h['tracestate'];
}

/** B3 sampling state: `1`/`true`/`d` (debug) sample, `0`/`false` do not, anything else is malformed. */
function b3Sampled(v: string | undefined): boolean | undefined | 'bad' {
  if (v === undefined) return undefined;
  switch (v.toLowerCase()) {
    case '1':
    case 'true':
    case 'd':
      return true;
    case '0':
    case 'false':
      return false;
    default:
      return 'bad';
  }
}

function b3TraceId(s: string): string | undefined {
  const t = s.toLowerCase();
  return isId(t, 32) || isId(t, 16) ? t : undefined;
}

/**
 * B3, the single `b3` header first (`{traceid}-{spanid}[-{sampled}[-{parentspanid}]]`, or just a sampling
 * state), else the multi headers. Only a sampling decision (no ids) yields `{ decision }`.
 */
export function parseB3(h: HeaderMap): SpanContext | { readonly decision: boolean } | undefined {
  const single = first(h, 'b3');
  if (single !== undefined) {
    const parts = single.trim().split('-');
    if (parts.length === 1) {
      const s = b3Sampled(parts[0]);
      return typeof s === 'boolean' ? { decision: s } : undefined;
    }
    if (parts.length > 4) return undefined;
    const traceId = b3TraceId(parts[0] ?? '');
    const spanId = (parts[1] ?? '').toLowerCase();
    if (traceId === undefined || !isId(spanId, 16)) return undefined;
    const sampled = b3Sampled(parts[2]);
    if (sampled === 'bad') return undefined;
    if (parts[3] !== undefined && !isId(parts[3].toLowerCase(), 16)) return undefined;
    return { traceId, spanId, sampled, tracestate: '' };
  }
  const flags = first(h, 'x-b3-flags');
  let sampled = flags === '1' ? true : b3Sampled(first(h, 'x-b3-sampled'));
  if (sampled === 'bad') sampled = undefined;
  const tid = first(h, 'x-b3-traceid');
  const sid = first(h, 'x-b3-spanid');
  if (tid === undefined || sid === undefined) return sampled !== undefined ? { decision: sampled } : undefined;
  const traceId = b3TraceId(tid.trim());
  const spanId = sid.trim().toLowerCase();
  if (traceId === undefined || !isId(spanId, 16)) return undefined;
  return { traceId, spanId, sampled, tracestate: '' };
}

/** Sets the multi-header B3 context of a span (Envoy's Zipkin tracer injects these, not `b3`). */
export function injectB3(h: HeaderMap, traceId: string, spanId: string, parentSpanId: string, sampled: boolean): void {
  h['x-b3-traceid'] = traceId;
  h['x-b3-spanid'] = spanId;
  if (parentSpanId !== '') h['x-b3-parentspanid'] = parentSpanId;
  else delete h['x-b3-parentspanid'];
  h['x-b3-sampled'] = sampled ? '1' : '0';
  delete h['b3'];
}

/**
 * The same trace context with another sampling decision, in whichever of the propagation headers it travels
 * (`traceparent` flags, `x-b3-sampled`, the single `b3` header's sampled field): for a request mirror policy's
 * trace_sampled, the decision of the shadow's own span in Envoy (Router: RequestOptions.setSampled).
 */
export function setSampled(h: HeaderMap, sampled: boolean): void {
  const tp = first(h, 'traceparent');
  if (tp !== undefined && parseTraceparent(h) !== undefined) {
    const t = tp.trim();
    const flags = parseInt(t.slice(53, 55), 16);
    h['traceparent'] = `${t.slice(0, 53)}${((sampled ? flags | 1 : flags & ~1) & 0xff).toString(16).padStart(2, '0')}${t.slice(55)}`;
  }
  if (first(h, 'x-b3-traceid') !== undefined) {
    h['x-b3-sampled'] = sampled ? '1' : '0';
    delete h['x-b3-flags'];
  }
  const b3 = first(h, 'b3');
  if (b3 !== undefined) {
    const parts = b3.trim().split('-');
    if (parts.length === 1) h['b3'] = sampled ? '1' : '0';
    else if (parts.length >= 2) h['b3'] = [parts[0], parts[1], sampled ? '1' : '0', ...parts.slice(3)].join('-');
  }
}
