// Envoy's HTTP/2 drain sequence (ConnectionManagerImpl::startDrainSequence, HttpConnectionManager
// drain_timeout): a draining connection first gets a shutdown notice, a GOAWAY naming the largest stream ID
// (2^31-1), so the client stops opening streams while those already racing toward the proxy are still
// served; drain_timeout later (5 s by default) the final GOAWAY names the last stream processed, streams
// above it are refused, and the connection closes once its streams are done.

import { constants, type ServerHttp2Session } from 'node:http2';

const MAX_STREAM_ID = 2 ** 31 - 1;

/** Starts the drain sequence on `s` (once; a session already closing is left alone). */
export function drainHttp2Session(s: ServerHttp2Session, drainTimeoutMs: number): void {
  if (s.closed || s.destroyed || draining.has(s)) return;
  draining.add(s);
  s.goaway(constants.NGHTTP2_NO_ERROR, MAX_STREAM_ID);
  const timer = setTimeout(() => {
    if (s.closed || s.destroyed) return;
    s.goaway(constants.NGHTTP2_NO_ERROR);
    s.close();
  }, drainTimeoutMs);
  timer.unref();
  s.once('close', () => clearTimeout(timer));
}

const draining = new WeakSet<ServerHttp2Session>();
