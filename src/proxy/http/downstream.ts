// The downstream side of one request as the connection manager's codecs hand it over: the request (its head
// as received, its body as a stream) and the response writer (http1-response.ts, http2-response.ts), so
// filters and the router never see the codec.

import type { Readable } from 'node:stream';
import type { OutgoingHttpHeaders } from 'node:http';
import type { PeerCertificate } from './peer-certificate.js';
import type { HeaderMap } from './headers.js';

export type HttpProtocol = 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';

export interface DownstreamRequest {
  readonly method: string;
  /** :path as received (with the query), then as the connection manager normalized it (path-normalization.ts). */
  path: string;
  readonly authority: string;
  readonly scheme: 'http' | 'https';
  readonly protocol: HttpProtocol;
  /** Lower-case names; mutable: HCM and filters edit it before it goes upstream. */
  readonly headers: HeaderMap;
  readonly hasBody: boolean;
  readonly body: Readable;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly serverName: string;
  /** The verified client certificate of the connection (mTLS), if any. */
  readonly peer?: PeerCertificate | undefined;
}

export interface DownstreamResponse {
  readonly headersSent: boolean;
  /** Sends `100 Continue` (node's ServerResponse.writeContinue); nothing to an HTTP/1.0 client. */
  writeContinue(): void;
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer | string): boolean;
  end(chunk?: Buffer | string): unknown;
  addTrailers(headers: OutgoingHttpHeaders): void;
  once(event: 'drain', f: () => void): unknown;
}
