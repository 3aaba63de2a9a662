// Health check payloads (envoy.config.core.v3.HealthCheck.Payload): what a TCP check sends and what a TCP or
// HTTP check expects back. Decoded once at compile time, as Envoy's PayloadMatcher::loadProtoBytes does:
// `text` is hex (invalid or empty hex is a config error), `binary` is raw bytes, and empty segments are
// dropped. A response matches when every expected segment occurs in order, each after the previous one
// (PayloadMatcher::match in source/common/upstream/health_checker_impl.cc). No I/O here.

import type { HealthCheck_Payload } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/** Decodes a list of payloads into byte segments; problems are reported under `path`. */
export function decodePayloads(list: readonly HealthCheck_Payload[], path: string, problems: string[]): readonly Buffer[] {
  const out: Buffer[] = [];
  list.forEach((p, i) => {
    const b = decodePayload(p, `${path}[${i}]`, problems);
    if (b !== undefined && b.length > 0) out.push(b);
  });
  return Object.freeze(out);
}

/** One payload's bytes; undefined (with a problem) when it is not valid. */
export function decodePayload(p: HealthCheck_Payload, path: string, problems: string[]): Buffer | undefined {
  switch (p.payload.case) {
    case 'text':
      if (!HEX.test(p.payload.value)) {
        problems.push(`${path}.text: invalid hex string '${p.payload.value}'`);
        return undefined;
      }
      return Buffer.from(p.payload.value, 'hex');
    case 'binary':
      return Buffer.from(p.payload.value);
    default:
      problems.push(`${path}: one of text or binary must be set`);
      return undefined;
  }
}

/** Whether every segment occurs in `data`, in order, each starting after the end of the previous one. */
export function payloadMatches(segments: readonly Buffer[], data: Buffer): boolean {
  let from = 0;
  for (const s of segments) {
    const at = data.indexOf(s, from);
    if (at < 0) return false;
    from = at + s.length;
  }
  return true;
}
