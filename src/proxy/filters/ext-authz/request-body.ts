// with_request_body for ext_authz: reads up to max_request_bytes of the downstream body for the check and
// puts every byte back, so the router still forwards the whole body (Envoy buffers it in the filter chain
// and continues decoding with it). The body is read in paused mode with read(max + 1): Node returns that
// many bytes once buffered (raising the stream's high-water mark) or everything left at the end of the
// stream, which tells "larger than the limit" from "the whole body" without consuming it for good.
// Envoy: ext_authz.cc decodeHeaders/decodeData (buffer limit, allow_partial_message).

import type { Readable } from 'node:stream';

export type BodyRead = { readonly kind: 'body'; readonly body: Buffer } | { readonly kind: 'too-large' };

/** Calls `done` once with the (possibly truncated) body, or 'too-large' when it exceeds the limit without allow_partial. */
export function readBodyForCheck(body: Readable, maxBytes: number, allowPartial: boolean, done: (r: BodyRead) => void): () => void {
  let finished = false;
  const stop = (): void => {
    finished = true;
    body.off('readable', onReadable);
    body.off('error', onError);
  };
  const onError = (): void => {
    if (finished) return;
    stop();
    done({ kind: 'body', body: Buffer.alloc(0) });
  };
  function onReadable(): void {
    if (finished) return;
    const chunk: unknown = body.read(maxBytes + 1);
    if (chunk === null) return;
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    stop();
    // Back at the front, before the end of the stream is announced: the router reads it all again.
    body.unshift(b);
    if (b.length <= maxBytes) done({ kind: 'body', body: b });
    else if (allowPartial) done({ kind: 'body', body: b.subarray(0, maxBytes) });
    else done({ kind: 'too-large' });
  }
  body.on('readable', onReadable);
  body.on('error', onError);
  return stop;
}
