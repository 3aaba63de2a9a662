// What the connection manager answers when the HTTP/1.1 codec gives up on a request, as Envoy answers it.
// A codec error (http1/codec_impl.cc sendProtocolError, Http1ResponseCodeDetails) is the status's text as
// the body, the DPE flag and Envoy's details: 400 `http1.codec_error` for a parse error, with the exceptions
// below. The connection manager's two timeouts (conn_manager_impl.cc onRequestHeaderTimeout and
// onRequestTimeout) are 408s with their own bodies and no response flag. `code` is llhttp's (node's HPE_*),
// node's request timeout, or the codec's own (ISM_*); llhttp gives one code to what Envoy tells apart, so
// its `reason` decides.

import { STATUS_CODES } from 'node:http';
import { ResponseFlag } from './response-flags.js';

export interface CodecErrorReply {
  readonly status: number;
  readonly body: string;
  readonly details: string;
  /** Response flags for the access log. */
  readonly flags: number;
}

const TIMEOUTS: ReadonlyMap<string, { readonly body: string; readonly details: string }> = new Map([
  ['HPE_HEADERS_TIMEOUT', { body: 'request header timeout', details: 'request_header_timeout' }],
  ['ERR_HTTP_REQUEST_TIMEOUT', { body: 'request timeout', details: 'request_overall_timeout' }],
]);

function codecError(code: string, reason: string): { readonly status: number; readonly details: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, details: 'http1.headers_too_large' };
    case 'HPE_INVALID_HEADER_TOKEN': // "Invalid header value char" (Envoy checks values itself) or "Invalid header token"
      return { status: 400, details: /value/i.test(reason) ? 'http1.invalid_characters' : 'http1.codec_error' };
    case 'HPE_INVALID_TRANSFER_ENCODING': // with Content-Length (no allow_chunked_length), or not ending in chunked
      return /content-length/i.test(reason) ? { status: 400, details: 'http1.content_length_and_chunked_not_allowed' } : { status: 501, details: 'http1.invalid_transfer_encoding' };
    case 'ISM_TRANSFER_ENCODING': // a transfer coding other than chunked alone
      return { status: 501, details: 'http1.invalid_transfer_encoding' };
    case 'ISM_HTTP10': // HTTP/1.0 without accept_http_10 (checkProtocolVersion)
      return { status: 426, details: 'low_version' };
    default:
      return { status: 400, details: 'http1.codec_error' };
  }
}

export function codecErrorReply(code: string, reason: string): CodecErrorReply {
  const timeout = TIMEOUTS.get(code);
  if (timeout !== undefined) return { status: 408, body: timeout.body, details: timeout.details, flags: 0 };
  const e = codecError(code, reason);
  return { status: e.status, body: STATUS_CODES[e.status] ?? 'Bad Request', details: e.details, flags: ResponseFlag.DPE };
}
