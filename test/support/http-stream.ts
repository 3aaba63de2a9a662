// A real HttpStream over an in-memory response, for filter tests: what the filter answered (status, headers,
// body) is recorded, and a downstream reset can be simulated.

import { PassThrough } from 'node:stream';
import { HttpStream, type DownstreamRequest, type DownstreamResponse, type HeaderMap } from '../../src/proxy/http/http-stream.js';
import { newStreamInfo } from '../../src/proxy/http/stream-info.js';

export interface Sent {
  status?: number;
  headers?: Record<string, unknown>;
  body?: string;
}

/** A GET (or `method`) for `path` on app.example.com from 10.0.0.5 to 10.0.0.9:8080, plaintext. */
export function testStream(headers: HeaderMap, path = '/', method = 'GET'): { s: HttpStream; sent: Sent; reset: () => void } {
  const sent: Sent = {};
  const response: DownstreamResponse = {
    headersSent: false,
    writeHead: (status, h) => Object.assign(sent, { status, headers: h }),
    write: () => true,
    end: (chunk) => void (sent.body = chunk === undefined ? '' : String(chunk)),
    addTrailers: () => undefined,
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
  return { s, sent, reset: () => resets.forEach((f) => f()) };
}
