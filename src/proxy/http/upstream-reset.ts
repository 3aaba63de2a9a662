// What an upstream error means to the router: Envoy's reset reason, the transport failure text its local
// reply and access log carry, the retry outcome kind, and the response flag (Envoy's
// Filter::streamResetReasonToResponseFlag).

import type { AttemptOutcome } from './retry-state.js';
import type { ResetReason } from './local-reply.js';
import { ResponseFlag } from './response-flags.js';

/** The reset an upstream error amounts to, from its code (node's, undici's, llhttp's). */
export function resetReasonOf(err: Error): { reason: ResetReason; transport: string; kind: AttemptOutcome['kind'] } {
  const code = (err as { code?: string }).code ?? '';
  const cause = (err as { cause?: { code?: string } }).cause?.code ?? '';
  const c = code === 'UND_ERR_SOCKET' && cause !== '' ? cause : code;
  switch (c) {
    case 'ECONNREFUSED':
      return { reason: 'remote connection failure', transport: 'delayed connect error: Connection refused', kind: 'connect-failure' };
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return { reason: 'connection timeout', transport: '', kind: 'connect-failure' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { reason: 'remote connection failure', transport: `delayed connect error: ${c}`, kind: 'connect-failure' };
    case 'ERR_HTTP2_STREAM_ERROR':
      return { reason: 'remote refused stream reset', transport: '', kind: 'refused-stream' };
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'UND_ERR_INFO':
      return { reason: 'protocol error', transport: '', kind: 'reset' };
    default:
      if (c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL') || /certificate|SSL|TLS/i.test(err.message)) return { reason: 'remote connection failure', transport: `TLS error: ${err.message}`, kind: 'connect-failure' };
      if (c.startsWith('HPE_')) return { reason: 'protocol error', transport: '', kind: 'reset' };
      return { reason: 'connection termination', transport: '', kind: 'reset' };
  }
}

const FLAG_FOR_KIND: Record<AttemptOutcome['kind'], number> = {
  'connect-failure': ResponseFlag.UF,
  reset: ResponseFlag.UC,
  'refused-stream': ResponseFlag.UR,
  'per-try-timeout': ResponseFlag.UT,
  response: 0,
};

/** Envoy's Filter::streamResetReasonToResponseFlag: a protocol error is UPE, other resets by their kind. */
export function flagFor(r: { reason: ResetReason; kind: AttemptOutcome['kind'] }): number {
  return r.reason === 'protocol error' ? ResponseFlag.UPE : FLAG_FOR_KIND[r.kind];
}
