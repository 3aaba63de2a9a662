// One HTTP/1.1 request on a connection of its own to a listener on 127.0.0.1, bounded in time, for tests that
// talk to the proxy directly: the status, head and body, and whether the response came whole (a reset stream
// leaves `complete` false). The body may be sent all at once, in two halves some time apart (`slowBody`), or
// only in part, never finished (`partialBody`: the declared length is twice what is sent).

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly complete: boolean;
}

export interface HttpAsk {
  readonly path: string;
  readonly host?: string;
  /** The Host header; default app.example. */
  readonly authority?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly slowBody?: { readonly body: string; readonly gapMs: number };
  readonly partialBody?: string;
  /** Default 8 s. */
  readonly timeoutMs?: number;
}

export function ask(port: number, a: HttpAsk): Promise<HttpAnswer> {
  return new Promise((ok, fail) => {
    const withBody = a.slowBody !== undefined || a.partialBody !== undefined;
    const headers = { host: a.authority ?? 'app.example', ...a.headers };
    const req = httpRequest({ host: a.host ?? '127.0.0.1', port, path: a.path, method: withBody ? 'POST' : 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => undefined);
      res.on('close', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), complete: res.complete }));
    });
    const limit = a.timeoutMs ?? 8000;
    req.setTimeout(limit, () => req.destroy(new Error(`no answer to ${a.path} within ${limit} ms`)));
    req.on('error', fail);
    if (a.slowBody !== undefined) {
      const { body, gapMs } = a.slowBody;
      const half = Math.floor(body.length / 2);
      req.setHeader('content-length', String(body.length));
      req.write(body.slice(0, half));
      setTimeout(() => req.end(body.slice(half)), gapMs);
    } else if (a.partialBody !== undefined) {
      req.setHeader('content-length', String(a.partialBody.length * 2));
      req.write(a.partialBody);
    } else req.end();
  });
}
