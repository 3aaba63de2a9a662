// What filters hang on a stream (http-stream.ts): response head and trailers hooks (Envoy's encodeHeaders and
// encodeTrailers) and body filters (decodeData/encodeData), and how a chunk goes through the body filters.

import type { HeaderMap } from './headers.js';

/** Applied to every response head: route/vhost response header mutations and the HCM's own headers. */
export type ResponseHeadHook = (status: number, headers: HeaderMap) => void;

/** A filter's response head hook (Envoy's encodeHeaders): 'stop' holds the head until continueEncoding(). */
export type EncodeHeadHook = (status: number, headers: HeaderMap) => void | 'stop';

/** A filter's response trailers hook (Envoy's encodeTrailers): 'stop' holds the end of the stream until continueEncoding(). */
export type EncodeTrailersHook = (trailers: HeaderMap) => void | 'stop';

/**
 * A body filter (Envoy's decodeData/encodeData, used by Wasm plugins): sees each chunk in order and returns
 * what passes on now, or undefined while it holds the data back (StopIterationAndBuffer). It is called once
 * with `end` true, with an empty chunk when the body had already been seen, and must then return everything
 * it still holds. As in Envoy, a filter that changes a body's length removes its content-length header
 * itself (Wasm plugins do so in their headers callback).
 */
export type BodyFilter = (chunk: Buffer, end: boolean) => Buffer | undefined;

const EMPTY = Buffer.alloc(0);

/** Runs `chunk` through `fs` in order; undefined when a filter holds it back. */
export function runBodyFilters(fs: readonly BodyFilter[], chunk: Buffer, end: boolean): Buffer | undefined {
  let c: Buffer = chunk;
  for (let i = 0; i < fs.length; i++) {
    const out = (fs[i] as BodyFilter)(c, end);
    if (out === undefined) {
      if (!end) return undefined;
      c = EMPTY;
    } else c = out;
  }
  return c;
}
