// The ONE place where errors on the request path become what the client receives (Envoy's local replies):
// status, `text/plain` body with Envoy's exact strings, response flags and details, and for gRPC requests a
// trailers-only response whose grpc-status Envoy derives from the HTTP status
// (source/common/http/utility.cc: httpToGrpcStatus; local replies to gRPC requests via sendLocalReply).

import { ResponseFlag } from './response-flags.js';

export interface LocalReply {
  readonly status: number;
  readonly body: string;
  readonly flag: number;
  readonly details: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The grpc-status of a gRPC request's reply when not the one the HTTP status maps to (Envoy's grpc_status argument). */
  readonly grpcStatus?: number;
}

export const BODY_NO_HEALTHY_UPSTREAM = 'no healthy upstream';
export const BODY_UPSTREAM_TIMEOUT = 'upstream request timeout';
export const BODY_FAULT_ABORT = 'fault filter abort';

/** Envoy's reset reasons (resetReasonToString), as they appear in bodies and details. */
export type ResetReason =
  | 'local connection failure'
  | 'remote connection failure'
  | 'connection timeout'
  | 'connection termination'
  | 'local reset'
  | 'overflow'
  | 'remote reset'
  | 'remote refused stream reset'
  | 'protocol error';

/** `upstream connect error or disconnect/reset before headers. [retried and the latest ]reset reason: <r>[, transport failure reason: <t>]` */
export function upstreamResetBody(reason: ResetReason, retried: boolean, transportFailure: string): string {
  return `upstream connect error or disconnect/reset before headers. ${retried ? 'retried and the latest ' : ''}reset reason: ${reason}${transportFailure !== '' ? `, transport failure reason: ${transportFailure}` : ''}`;
}

/** `upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_111}` */
export function upstreamResetDetails(reason: ResetReason, transportFailure: string, afterResponseStarted = false): string {
  const r = reason.replaceAll(' ', '_');
  return `upstream_reset_${afterResponseStarted ? 'after' : 'before'}_response_started{${transportFailure !== '' ? `${r}|${transportFailure.replaceAll(' ', '_')}` : r}}`;
}

/**
 * The router's overflow reply: a circuit breaker is open (requests, or pending requests waiting for a
 * connection): 503 with flag UO and `x-envoy-overloaded` unless the router suppresses Envoy's headers.
 */
export function overflowReply(retried: boolean, suppressEnvoyHeaders: boolean): LocalReply {
  return {
    status: 503,
    body: upstreamResetBody('overflow', retried, ''),
    flag: ResponseFlag.UO,
    details: upstreamResetDetails('overflow', ''),
    ...(suppressEnvoyHeaders ? {} : { headers: { 'x-envoy-overloaded': 'true' } }),
  };
}

/** Envoy's httpToGrpcStatus. */
export function grpcStatusForHttp(status: number): number {
  switch (status) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/**
 * A grpc-message value as Envoy's PercentEncoding::encode makes it (the gRPC spec's escaping): each UTF-8 byte
 * below a space or from `~` up, and `%`, as %XX; the rest as is (`no healthy upstream` stays readable).
 */
export function grpcMessage(text: string | Buffer): string {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let plain = true;
  for (let i = 0; i < bytes.length && plain; i++) {
    const c = bytes[i] as number;
    plain = c >= 0x20 && c < 0x7e && c !== 0x25;
  }
  if (plain) return bytes.toString('latin1');
  let out = '';
  for (const b of bytes) out += b < 0x20 || b >= 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  return out;
}

/**
 * Envoy's Grpc::Common::hasGrpcContentType: `application/grpc` exactly or followed by `+` (`+proto`, `+json`);
 * `application/grpc-web` is not gRPC.
 */
export function isGrpcRequest(contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && contentType.startsWith('application/grpc') && (contentType.length === 16 || contentType.charCodeAt(16) === 43 /* + */);
}
