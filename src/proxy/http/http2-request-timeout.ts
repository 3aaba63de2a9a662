// Envoy's request_timeout (HttpConnectionManager.request_timeout) on an HTTP/2 stream; the HTTP/1.1 codec
// checks its own on the connection manager's sweep (http1-server.ts). Per the field's documentation it is
// armed while the request is arriving and "disarmed when the last byte of the request is sent upstream ...
// OR when the response is initiated". When it fires, the stream's upstream work is cancelled, the client gets
// Envoy's 408 `request timeout` (ActiveStream::onRequestTimeout: details request_overall_timeout, no response
// flag), and, its request never finished, the stream is then reset with NO_ERROR (Envoy resets a stream
// whose response ended before its request, conn_manager_impl.cc doEndStream).

import { constants, type ServerHttp2Stream } from 'node:http2';
import type { Counter } from '../stats/metric.js';
import type { HttpStream } from './http-stream.js';
import type { Http2Response } from './http2-response.js';

/** Arms the timeout for a stream whose request has a body; `counter` is http.<prefix>.downstream_rq_timeout. */
export function armHttp2RequestTimeout(s: HttpStream, res: Http2Response, stream: ServerHttp2Stream, timeoutMs: number, counter: Counter | undefined): void {
  const timer = setTimeout(() => {
    if (s.responseStarted || res.ended || stream.destroyed || stream.closed) return;
    counter?.inc();
    res.cancelWork();
    s.localReply({ status: 408, body: 'request timeout', flag: 0, details: 'request_overall_timeout' });
    const close = (): void => {
      if (!stream.destroyed && !stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
    };
    if (stream.writableFinished) close();
    else stream.once('finish', close);
  }, timeoutMs);
  timer.unref();
  const disarm = (): void => clearTimeout(timer);
  stream.once('end', disarm);
  stream.once('close', disarm);
}
