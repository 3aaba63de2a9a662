// Envoy's gRPC-Web filter (envoy.filters.http.grpc_web, source/extensions/filters/http/grpc_web/
// grpc_web_filter.cc), which Istio adds to the connection manager of a port whose protocol is GRPC-Web: a
// browser's gRPC-Web request becomes a gRPC request upstream, and the gRPC response a gRPC-Web one.
// - Request (content-type exactly application/grpc-web, -web+proto, -web-text or -web-text+proto): the
//   content-type becomes application/grpc, content-length goes (the upstream body is HTTP/2 DATA), `te:
//   trailers` and, when absent, `grpc-accept-encoding: identity,deflate,gzip` are added; a -text body is base64
//   decoded four characters at a time (a body whose length is not a multiple of 4, or that is not base64, is
//   answered 400 `Bad gRPC-web request, invalid base64 data.`, details grpc_base_64_decode_failed_bad_size /
//   grpc_base_64_decode_failed).
// - Response: content-type application/grpc-web+proto, or -web-text+proto when the request's `accept` asked
//   for text (each complete gRPC frame of the body then goes base64 encoded); the upstream's trailers become
//   the body's last frame (flag 0x80, then `name:value\r\n` per trailer), as browsers cannot read HTTP
//   trailers; a trailers-only response keeps its grpc-status in the head. A local reply (no healthy upstream,
//   a bad base64 body) keeps its HTTP status and goes as grpc-status and grpc-message without a body, as the
//   filter transforms a response that is not gRPC (http-stream.ts localReply, `grpcWeb`).
//   An upstream's response that is not gRPC (say, a plain 404) is transformed the same way: its head waits for
//   its body, whose first 16 KiB become grpc-message (HttpStream.holdHeadForBody).

import type { HttpStream } from '../../http/http-stream.js';
import type { HeaderMap } from '../../http/headers.js';
import { grpcMessage, grpcStatusForHttp, isGrpcRequest } from '../../http/local-reply.js';

const WEB = 'application/grpc-web';
const WEB_PROTO = 'application/grpc-web+proto';
const WEB_TEXT = 'application/grpc-web-text';
const WEB_TEXT_PROTO = 'application/grpc-web-text+proto';
const TYPES: ReadonlySet<string> = new Set([WEB, WEB_PROTO, WEB_TEXT, WEB_TEXT_PROTO]);
const TRAILER_FLAG = 0x80;
const BASE64_GROUP = /^(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$/;
const BAD_BASE64 = 'Bad gRPC-web request, invalid base64 data.';
/** Envoy's MAX_BUFFERED_PLAINTEXT_LENGTH: how much of a response that is not gRPC becomes grpc-message. */
const MESSAGE_LIMIT = 16384;

/**
 * needsTransformationForNonProtoEncodedResponse, negated: a gRPC response (a status in the head, or 200 with
 * gRPC's content-type) or a 200 already in gRPC-Web's proto encoding.
 */
function isGrpcOrWebResponse(status: number, h: HeaderMap): boolean {
  if (h['grpc-status'] !== undefined) return true;
  if (status !== 200) return false;
  const ct = h['content-type'];
  if (typeof ct !== 'string') return false;
  const base = (ct.split(';')[0] ?? '').trim().toLowerCase();
  return isGrpcRequest(ct) || base === WEB_PROTO || base === WEB;
}

/** The request's base64 body decoded four characters at a time; a bad group or length answers 400. */
function base64Decoder(s: HttpStream): (chunk: Buffer, end: boolean) => Buffer | undefined {
  let pending = '';
  let failed = false;
  return (chunk, end) => {
    if (failed) return undefined;
    const text = pending + chunk.toString('latin1');
    const usable = text.length - (text.length % 4);
    if (end && usable !== text.length) {
      failed = true;
      s.localReply({ status: 400, body: BAD_BASE64, flag: 0, details: 'grpc_base_64_decode_failed_bad_size' });
      return undefined;
    }
    pending = text.slice(usable);
    const out: Buffer[] = [];
    for (let i = 0; i < usable; i += 4) {
      const group = text.slice(i, i + 4);
      if (!BASE64_GROUP.test(group)) {
        failed = true;
        s.localReply({ status: 400, body: BAD_BASE64, flag: 0, details: 'grpc_base_64_decode_failed' });
        return undefined;
      }
      out.push(Buffer.from(group, 'base64'));
    }
    return Buffer.concat(out);
  };
}

/** The response body's complete gRPC frames, each base64 encoded (a partial frame waits for its rest). */
function base64FrameEncoder(): (chunk: Buffer, end: boolean) => Buffer | undefined {
  let held = Buffer.alloc(0);
  return (chunk) => {
    let buf = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
    const parts: string[] = [];
    while (buf.length >= 5) {
      const size = 5 + buf.readUInt32BE(1);
      if (buf.length < size) break;
      parts.push(buf.subarray(0, size).toString('base64'));
      buf = buf.subarray(size);
    }
    held = Buffer.from(buf);
    return parts.length === 0 ? undefined : Buffer.from(parts.join(''), 'latin1');
  };
}

/** The trailers as gRPC-Web's trailer frame: flag 0x80, the length, then `name:value\r\n` per value. */
export function trailerFrame(t: HeaderMap): Buffer {
  let text = '';
  for (const k in t) {
    const v = t[k];
    if (v === undefined) continue;
    for (const x of typeof v === 'string' ? [v] : v) text += `${k}:${x}\r\n`;
  }
  const body = Buffer.from(text, 'latin1');
  const head = Buffer.alloc(5);
  head[0] = TRAILER_FLAG;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Runs the filter's request side and sets up its response side; never stops the chain. */
export function runGrpcWebFilter(s: HttpStream): 'continue' {
  const h = s.request.headers;
  const ct = h['content-type'];
  if (typeof ct !== 'string' || !TYPES.has(ct)) return 'continue';
  s.grpcWeb = true;
  delete h['content-length'];
  const textRequest = ct === WEB_TEXT || ct === WEB_TEXT_PROTO;
  h['content-type'] = 'application/grpc';
  const accept = h['accept'];
  const textResponse = accept === WEB_TEXT || accept === WEB_TEXT_PROTO;
  h['te'] = 'trailers';
  if (h['grpc-accept-encoding'] === undefined) h['grpc-accept-encoding'] = 'identity,deflate,gzip';
  if (textRequest && s.request.hasBody) (s.requestBodyFilters ??= []).push(base64Decoder(s));
  s.encodeHooks.push((status, rh) => {
    const grpc = isGrpcOrWebResponse(status, rh);
    rh['content-type'] = textResponse ? WEB_TEXT_PROTO : WEB_PROTO;
    if (!grpc) {
      // Not gRPC (a plain 404 from the upstream): the head waits for the body, whose first 16 KiB become
      // grpc-message, with grpc-status from the HTTP status; the status stays and the body goes.
      s.holdHeadForBody(MESSAGE_LIMIT, (body) => {
        rh['grpc-message'] = grpcMessage(body);
        rh['grpc-status'] = String(grpcStatusForHttp(status));
        rh['content-length'] = '0';
      });
      return 'stop';
    }
    // The body's length changes with the encoding (text) or the trailer frame added at its end; a response
    // with its status in the head (trailers-only, a local reply) has no body.
    if (rh['grpc-status'] === undefined) delete rh['content-length'];
    return undefined;
  });
  if (textResponse) (s.responseBodyFilters ??= []).unshift(base64FrameEncoder());
  s.encodeTrailerHooks.push((t) => {
    const frame = trailerFrame(t);
    const out = textResponse ? Buffer.from(frame.toString('base64'), 'latin1') : frame;
    s.info.bytesSent += out.length;
    s.response.write(out);
    for (const k in t) delete t[k];
  });
  return 'continue';
}
