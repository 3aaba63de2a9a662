// Spans as an OTLP/HTTP JSON body: an ExportTraceServiceRequest (opentelemetry-proto
// collector/trace/v1/trace_service.proto) in the OTLP JSON encoding (https://opentelemetry.io/docs/specs/otlp/
// #json-protobuf-encoding): trace and span ids as hex strings (not base64), enums as integers, 64-bit times as
// decimal strings, camelCase field names. One ResourceSpans per export with the service.name resource
// attribute, one ScopeSpans, every tag a string attribute (as Envoy sets them). Pure.

import type { FinishedSpan } from './span.js';

/** opentelemetry.proto.trace.v1.Span.SpanKind. */
export const OTLP_SPAN_KIND = { server: 2, client: 3 } as const;
/** opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR. */
export const OTLP_STATUS_ERROR = 2;

interface KeyValue {
  readonly key: string;
  readonly value: { readonly stringValue: string };
}

function attributes(tags: readonly (readonly [string, string])[]): KeyValue[] {
  // Attribute keys are unique: a later tag of the same name overwrites an earlier one (Envoy Span::setAttribute).
  const byKey = new Map<string, string>();
  for (const [k, v] of tags) if (k !== '') byKey.set(k, v);
  return [...byKey].map(([key, v]) => ({ key, value: { stringValue: v } }));
}

/** The JSON body of one export. */
export function otlpTraceRequest(serviceName: string, spans: readonly FinishedSpan[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: serviceName } }] },
        scopeSpans: [
          {
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId !== '' ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: OTLP_SPAN_KIND[s.kind],
              startTimeUnixNano: s.startUnixNs.toString(),
              endTimeUnixNano: s.endUnixNs.toString(),
              attributes: attributes(s.tags),
              status: s.statusError ? { code: OTLP_STATUS_ERROR } : {},
            })),
          },
        ],
      },
    ],
  });
}
