// A stream's span while the stream runs (its ids, sampling and kind), as the stream's info carries it. Kept
// apart from span.ts so that the stream info can name it without importing the request types.

import type { CompiledTracing } from './tracing-config.js';

export type SpanKind = 'server' | 'client';

export interface ActiveSpan {
  readonly config: CompiledTracing;
  readonly traceId: string;
  readonly spanId: string;
  /** '' for the root of a trace. */
  readonly parentSpanId: string;
  readonly sampled: boolean;
  readonly tracestate: string;
  readonly kind: SpanKind;
  readonly name: string;
  /** The child CLIENT span's id when spawn_upstream_span is on, else ''. */
  readonly upstreamSpanId: string;
}

