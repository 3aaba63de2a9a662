// Spans as a Zipkin v2 JSON body (https://zipkin.io/zipkin-api/#/default/post_spans), as Envoy's Zipkin tracer
// sends with collector_endpoint_version HTTP_JSON: a list of spans with hex ids, kind SERVER or CLIENT,
// timestamp and duration in microseconds, the local endpoint's service name, and the tags as a string map.
// Pure.

import type { FinishedSpan } from './span.js';

export function zipkinSpans(serviceName: string, spans: readonly FinishedSpan[]): string {
  return JSON.stringify(
    spans.map((s) => {
      const tags: Record<string, string> = {};
      for (const [k, v] of s.tags) tags[k] = v;
      const timestamp = Number(s.startUnixNs / 1000n);
      return {
        traceId: s.traceId,
        id: s.spanId,
        ...(s.parentSpanId !== '' ? { parentId: s.parentSpanId } : {}),
        name: s.name,
        kind: s.kind === 'server' ? 'SERVER' : 'CLIENT',
        timestamp,
        duration: Math.max(1, Number((s.endUnixNs - s.startUnixNs) / 1000n)),
        localEndpoint: { serviceName },
        tags,
      };
    }),
  );
}
