// A real HttpStream over an in-memory response, for filter and stream tests: what reached the downstream is
// recorded (the final status, headers and body, and every write in order), and a downstream reset can be simulated.

import { PassThrough } from 'node:stream';
import { HttpStream, type DownstreamRequest, type DownstreamResponse, type HeaderMap } from '../../src/proxy/http/http-stream.js';
import { newStreamInfo } from '../../src/proxy/http/stream-info.js';

export interface Sent {
  status?: number;
  headers?: Record<string, unknown>;
  body?: string;
}

/** One write to the downstream, in the order it happened. */
export type StreamEvent =
  | readonly [kind: 'head', status: number, headers: Record<string, unknown>]
  | readonly [kind: 'continue']
  | readonly [kind: 'data' | 'end', text: string]
  | readonly [kind: 'trailers', trailers: Record<string, unknown>];

/** A GET (or `method`) for `path` on app.example.com from 10.0.0.5 to 10.0.0.9:8080, plaintext. */
export function testStream(headers: HeaderMap = {}, path = '/', method = 'GET'): { s: HttpStream; sent: Sent; events: StreamEvent[]; reset: () => void } {
  const sent: Sent = {};
  const events: StreamEvent[] = [];
  const response: DownstreamResponse = {
    get headersSent() {
      return sent.status !== undefined;
    },
    writeContinue: () => void events.push(['continue']),
    writeHead: (status, h) => {
      Object.assign(sent, { status, headers: h });
      events.push(['head', status, { ...h }]);
    },
    write: (chunk) => {
      events.push(['data', String(chunk)]);
      return true;
    },
    end: (chunk) => {
      sent.body = chunk === undefined ? '' : String(chunk);
      events.push(['end', sent.body]);
    },
    addTrailers: (t) => void events.push(['trailers', { ...t }]),
    once: () => undefined,
  };
  const request: DownstreamRequest = {
    method,
    path,
    authority: 'app.example.com',
    scheme: 'http',
    protocol: 'HTTP/1.1',
    headers,
    hasBody: false,
    body: new PassThrough(),
    remoteAddress: '10.0.0.5',
    remotePort: 40000,
    localAddress: '10.0.0.9',
    localPort: 8080,
    serverName: '',
  };
  const resets: (() => void)[] = [];
  const s = new HttpStream(request, response, newStreamInfo(0), { next: () => 0 }, { reset: () => undefined, onReset: (f) => void resets.push(f) }, undefined);
  return { s, sent, events, reset: () => resets.forEach((f) => f()) };
}
