// The HTTP/1.1 upstream pool against real sockets: raw servers that show what went on the wire and
// answer exactly what a case needs (keep-alive reuse, per-connection limits, framing, errors the router
// maps to reset reasons, and responses that must not leak into the next request).

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { Http1Pool, type Http1PoolOptions } from './http1-pool.js';
import type { DispatchController, HeaderValues } from './cluster-handle.js';

interface Answer {
  status: number;
  headers: HeaderValues;
  body: string;
  error?: string;
}

/** A TCP server that answers each request head with `reply(rawRequest, connectionIndex)`. */
async function rawServer(t: TestContext, reply: (req: string, conn: number, socket: Socket) => string | undefined): Promise<{ port: number; requests: string[]; connections: () => number }> {
  const requests: string[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    const n = connections++;
    sockets.add(s);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        let req = buf.slice(0, end + 4);
        let rest = buf.slice(end + 4);
        const cl = /\r\ncontent-length: (\d+)/i.exec(req);
        if (cl !== null) {
          const len = Number(cl[1]);
          if (rest.length < len) return;
          req += rest.slice(0, len);
          rest = rest.slice(len);
        } else if (/\r\ntransfer-encoding: chunked/i.test(req)) {
          const term = rest.indexOf('0\r\n\r\n');
          if (term < 0) return;
          req += rest.slice(0, term + 5);
          rest = rest.slice(term + 5);
        }
        buf = rest;
        requests.push(req);
        const out = reply(req, n, s);
        if (out !== undefined) s.write(out, 'latin1');
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const a = server.address();
  return { port: typeof a === 'object' && a !== null ? a.port : 0, requests, connections: () => connections };
}

function pool(t: TestContext, port: number, o: Partial<Http1PoolOptions> = {}): Http1Pool {
  const p = new Http1Pool({ host: '127.0.0.1', port, connectTimeoutMs: 2_000, maxHeaderSize: 64 * 1024, maxConnections: 16, maxRequestsPerConnection: undefined, idleTimeoutMs: 60_000, ...o });
  t.after(() => p.close());
  return p;
}

function send(p: Http1Pool, method: string, path: string, body?: string[], headers: HeaderValues = {}, onStart?: (c: DispatchController) => void): Promise<Answer> {
  return new Promise((resolve) => {
    const a: Answer = { status: 0, headers: {}, body: '' };
    p.dispatch(
      { method, path, headers: { host: 'up.example', ...headers }, body: body === undefined ? null : Readable.from(body.map((s) => Buffer.from(s))) },
      {
        onRequestStart: (c) => onStart?.(c),
        onResponseStart: (_c, status, h) => {
          a.status = status;
          a.headers = h;
        },
        onResponseData: (_c, chunk) => {
          a.body += chunk.toString();
        },
        onResponseEnd: () => resolve(a),
        onResponseError: (_c, e) => resolve({ ...a, error: (e as { code?: string }).code ?? e.message }),
      },
    );
  });
}

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

describe('HTTP/1.1 upstream pool', () => {
  it('reuses one keep-alive connection, and reports repeated response headers as lists', async (t) => {
    const up = await rawServer(t, (req) => ok(req.split(' ')[1] ?? '', 'X-Multi: a\r\nx-multi: b\r\n'));
    const p = pool(t, up.port);
    const a = await send(p, 'GET', '/one');
    const b = await send(p, 'GET', '/two?q=1');
    assert.deepEqual([a.status, a.body, b.body], [200, '/one', '/two?q=1']);
    assert.deepEqual(a.headers['x-multi'], ['a', 'b']);
    assert.equal(up.connections(), 1);
    assert.match(up.requests[0] ?? '', /^GET \/one HTTP\/1\.1\r\nhost: up\.example\r\n\r\n$/);
  });

  it('max_requests_per_connection: the last request says connection: close and the next one opens a new connection', async (t) => {
    const up = await rawServer(t, () => ok('x'));
    const p = pool(t, up.port, { maxRequestsPerConnection: 2 });
    for (let i = 0; i < 3; i++) assert.equal((await send(p, 'GET', `/${i}`)).status, 200);
    assert.deepEqual(
      up.requests.map((r) => /connection: close/.test(r)),
      [false, true, false],
    );
    assert.equal(up.connections(), 2);
  });

  const framing: { name: string; method: string; body: string[] | undefined; headers: HeaderValues; wire: RegExp }[] = [
    { name: 'a declared content-length is kept and the body sent as is', method: 'POST', body: ['ab', 'c'], headers: { 'content-length': '3' }, wire: /content-length: 3\r\n\r\nabc$/ },
    { name: 'a body of unknown length is sent chunked', method: 'POST', body: ['ab', 'c'], headers: {}, wire: /transfer-encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n$/ },
    { name: 'a POST without a body says content-length: 0', method: 'POST', body: undefined, headers: {}, wire: /content-length: 0\r\n\r\n$/ },
    { name: 'a GET without a body has no framing header', method: 'GET', body: undefined, headers: {}, wire: /^GET \/ HTTP\/1\.1\r\nhost: up\.example\r\n\r\n$/ },
  ];
  for (const c of framing) {
    it(`request framing: ${c.name}`, async (t) => {
      const up = await rawServer(t, () => ok('done'));
      const p = pool(t, up.port);
      assert.equal((await send(p, c.method, '/', c.body, c.headers)).body, 'done');
      assert.match(up.requests[0] ?? '', c.wire);
    });
  }

  it('a HEAD response ends at its head (content-length names the GET body) and the connection is reused', async (t) => {
    const up = await rawServer(t, (req) => (req.startsWith('HEAD') ? 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n' : ok('after')));
    const p = pool(t, up.port);
    const h = await send(p, 'HEAD', '/');
    assert.deepEqual([h.status, h.headers['content-length'], h.body], [200, '5', '']);
    assert.equal((await send(p, 'GET', '/')).body, 'after');
    assert.equal(up.connections(), 1);
  });

  it('informational responses are skipped and chunked bodies are decoded', async (t) => {
    const up = await rawServer(t, () => 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
    const p = pool(t, up.port);
    const a = await send(p, 'GET', '/');
    assert.deepEqual([a.status, a.body], [201, 'abcde']);
  });

  const failures: { name: string; reply: (s: Socket) => string | undefined; code: string }[] = [
    { name: 'the upstream closes before answering', reply: (s) => void s.destroy(), code: 'UND_ERR_SOCKET' },
    { name: 'the upstream closes in the middle of the body', reply: (s) => void s.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'), code: 'UND_ERR_SOCKET' },
    { name: 'a malformed status line', reply: () => 'HTTP/1.1 2x0 Nope\r\n\r\n', code: 'HPE_INVALID_STATUS' },
    { name: 'an invalid header name', reply: () => 'HTTP/1.1 200 OK\r\nbad header: x\r\ncontent-length: 0\r\n\r\n', code: 'HPE_INVALID_HEADER_TOKEN' },
  ];
  for (const c of failures) {
    it(`errors carry the router's codes: ${c.name}`, async (t) => {
      const up = await rawServer(t, (_req, _n, s) => c.reply(s));
      const a = await send(pool(t, up.port), 'GET', '/');
      assert.equal(a.error, c.code);
    });
  }

  it('a request target with a space, a control character or a character above U+00FF is refused before anything is written', async (t) => {
    const up = await rawServer(t, (req) => ok(req.split(' ')[1] ?? ''));
    const p = pool(t, up.port);
    for (const bad of ['/a b', '/a\tb', '/\u0100', '/caf\u00e9\u20ac']) assert.equal((await send(p, 'GET', bad)).error, 'UND_ERR_INVALID_ARG', JSON.stringify(bad));
    // Latin-1 goes as its bytes (node and undici write paths that way too), and the connection is still usable.
    assert.equal((await send(p, 'GET', '/caf\u00e9?q=!~')).status, 200);
    assert.deepEqual(up.requests.map((r) => r.split(' ')[1]), ['/caf\u00e9?q=!~']);
  });

  it('a refused connection reports ECONNREFUSED', async (t) => {
    // A port nobody listens on: a fresh server's, closed again.
    const probe = createServer();
    const free = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as { port: number }).port)));
    await new Promise<void>((r) => probe.close(() => r()));
    assert.equal((await send(pool(t, free), 'GET', '/')).error, 'ECONNREFUSED');
  });

  it('bytes after a complete response are never taken as the next request\'s response', async (t) => {
    const up = await rawServer(t, (_req, n) => (n === 0 ? ok('first') + ok('stray') : ok('second')));
    const p = pool(t, up.port);
    assert.equal((await send(p, 'GET', '/a')).body, 'first');
    assert.equal((await send(p, 'GET', '/b')).body, 'second');
    assert.equal(up.connections(), 2);
  });

  it('a server Keep-Alive timeout shorter than the safety margin: the connection is not reused', async (t) => {
    const up = await rawServer(t, () => ok('k', 'keep-alive: timeout=1\r\n'));
    const p = pool(t, up.port);
    await send(p, 'GET', '/');
    await send(p, 'GET', '/');
    assert.equal(up.connections(), 2);
  });

  it('max connections: a request waits for a free connection, in order', async (t) => {
    const held: Socket[] = [];
    const up = await rawServer(t, (req, _n, s) => {
      if (req.startsWith('GET /slow')) {
        held.push(s);
        return undefined;
      }
      return ok(req.split(' ')[1] ?? '');
    });
    const p = pool(t, up.port, { maxConnections: 1 });
    const slow = send(p, 'GET', '/slow');
    const next = send(p, 'GET', '/next');
    while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(up.requests.length, 1, 'the second request waits');
    held[0]?.write(ok('slow'));
    assert.deepEqual([(await slow).body, (await next).body], ['slow', '/next']);
    assert.equal(up.connections(), 1);
  });

  it('abort: the handler hears the reason, and the connection is not reused', async (t) => {
    const up = await rawServer(t, (req) => (req.startsWith('GET /hang') ? undefined : ok('fresh')));
    const p = pool(t, up.port);
    let controller: DispatchController | undefined;
    const hung = send(p, 'GET', '/hang', undefined, {}, (c) => (controller = c));
    while (up.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller?.abort(Object.assign(new Error('gone'), { code: 'TEST_ABORT' }));
    assert.equal((await hung).error, 'TEST_ABORT');
    assert.equal((await send(p, 'GET', '/')).body, 'fresh');
    assert.equal(up.connections(), 2);
  });

  it('close(): waiting and new requests fail, the one in flight finishes, then the pool is closed', async (t) => {
    const held: Socket[] = [];
    const up = await rawServer(t, (_req, _n, s) => void held.push(s));
    const p = pool(t, up.port, { maxConnections: 1 });
    const first = send(p, 'GET', '/1');
    const waiting = send(p, 'GET', '/2');
    while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
    let closed = false;
    const closing = p.close().then(() => (closed = true));
    assert.equal((await waiting).error, 'UND_ERR_DESTROYED');
    assert.equal((await send(p, 'GET', '/3')).error, 'UND_ERR_DESTROYED');
    assert.equal(closed, false);
    held[0]?.write(ok('last'));
    assert.equal((await first).body, 'last');
    await closing;
    assert.equal(p.size, 0);
  });
});
