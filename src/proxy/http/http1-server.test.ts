// The downstream HTTP/1.1 codec on real sockets, with a scripted connection manager: what a client sees on
// the wire (framing, ordering, 100-continue, codec errors, timeouts) and what the connection manager is
// handed (the request as node:http would have merged its headers, bodies, resets, upgrades).

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { Http1ServerConnection, type Http1Request, type Http1ServerHost } from './http1-server.js';
import type { Http1Response } from './http1-response.js';
import type { HeaderMap } from './headers.js';

const FACTS = { remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2, tls: false, serverName: '' };

interface Seen {
  requests: Http1Request[];
  errors: string[];
  upgrades: { req: Http1Request; head: string }[];
  conns: Http1ServerConnection[];
  clock: { tick: number };
}

/** Serves with `respond` (called per request); codec errors are answered 400 with their code. */
async function serve(t: TestContext, respond: (req: Http1Request, res: Http1Response) => void, draining = false, http10: { accept: boolean; defaultHost?: string } = { accept: true }, onEarly?: () => void): Promise<{ port: number; seen: Seen }> {
  const seen: Seen = { requests: [], errors: [], upgrades: [], conns: [], clock: { tick: 0 } };
  const host: Http1ServerHost = {
    maxHeaderSize: 8 * 1024,
    acceptHttp10: http10.accept,
    defaultHostForHttp10: http10.defaultHost ?? '',
    draining,
    delayedCloseMs: 1000,
    maxRequestsPerConnection: 0,
    ...(onEarly !== undefined ? { onResponseBeforeRequestComplete: onEarly } : {}),
    onRequest(req, res) {
      seen.requests.push(req);
      respond(req, res);
    },
    onUpgrade(req, _raw, socket, head) {
      seen.upgrades.push({ req, head: head.toString() });
      socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\nupgraded');
    },
    onCodecError(err, socket) {
      seen.errors.push(err.code ?? '');
      socket.end(`HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: ${(err.code ?? '').length}\r\n\r\n${err.code ?? ''}`);
    },
    onClose: () => undefined,
  };
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    seen.conns.push(new Http1ServerConnection(s, host, FACTS, seen.clock));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as { port: number }).port, seen };
}

/** Writes `bytes`, returns what comes back until the server closes or `until` matches. */
function exchange(port: number, bytes: string[], until?: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const done = (): void => {
      s.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, 3_000);
    s.on('data', (d) => {
      out += d.toString('latin1');
      if (until?.test(out) === true) {
        clearTimeout(timer);
        done();
      }
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', () => undefined);
    (async () => {
      for (const b of bytes) {
        s.write(b);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
  });
}

const reply = (body: string, headers: HeaderMap = {}): ((req: Http1Request, res: Http1Response) => void) => (_req, res) => {
  res.writeHead(200, { 'content-length': String(body.length), date: 'd', ...headers });
  res.end(body);
};

describe('HTTP/1.1 server codec', () => {
  it('hands over the request with headers merged as node:http merges them', async (t) => {
    const { port, seen } = await serve(t, reply('ok'));
    await exchange(port, ['GET /p?q=1 HTTP/1.1\r\nHost: a.example\r\nCookie: a=1\r\ncookie: b=2\r\nX-A: 1\r\nx-a: 2\r\nSet-Cookie: s1\r\nset-cookie: s2\r\nUser-Agent: first\r\nuser-agent: second\r\n\r\n'], /ok$/);
    const r = seen.requests[0];
    assert.ok(r !== undefined);
    assert.deepEqual([r.method, r.path, r.authority, r.protocol, r.hasBody], ['GET', '/p?q=1', 'a.example', 'HTTP/1.1', false]);
    assert.deepEqual(r.headers, { host: 'a.example', cookie: 'a=1; b=2', 'x-a': '1, 2', 'set-cookie': ['s1', 's2'], 'user-agent': 'first' });
    assert.equal(r.headerCount, 9);
  });

  const framing: { name: string; request: string; respond: (req: Http1Request, res: Http1Response) => void; wire: RegExp }[] = [
    { name: 'content-length given: the body as is, in one write with the head', request: 'GET / HTTP/1.1\r\nhost: a\r\n\r\n', respond: reply('hello'), wire: /^HTTP\/1\.1 200 OK\r\ncontent-length: 5\r\ndate: d\r\n\r\nhello$/ },
    {
      name: 'no content-length on HTTP/1.1: chunked, with trailers',
      request: 'GET / HTTP/1.1\r\nhost: a\r\n\r\n',
      respond: (_q, res) => {
        res.writeHead(200, { date: 'd' });
        res.write(Buffer.from('ab'));
        res.addTrailers({ 'grpc-status': '0' });
        res.end(Buffer.from('c'));
      },
      wire: /^HTTP\/1\.1 200 OK\r\ndate: d\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\ngrpc-status: 0\r\n\r\n$/,
    },
    {
      // 20 KB is past the size up to which chunks are copied into one buffer with the head: the head and the
      // chunk size go first, the chunk is written as it is.
      name: 'chunked with a large body: head, size, the body as written, the terminator',
      request: 'GET / HTTP/1.1\r\nhost: a\r\n\r\n',
      respond: (_q, res) => {
        res.writeHead(200, { date: 'd', 'x-big': 'yes' });
        res.end(Buffer.alloc(20_000, 'z'));
      },
      wire: /^HTTP\/1\.1 200 OK\r\ndate: d\r\nx-big: yes\r\ntransfer-encoding: chunked\r\n\r\n4e20\r\nz{20000}\r\n0\r\n\r\n$/,
    },
    { name: 'HEAD: no body whatever is written', request: 'HEAD / HTTP/1.1\r\nhost: a\r\n\r\n', respond: reply('hello'), wire: /^HTTP\/1\.1 200 OK\r\ncontent-length: 5\r\ndate: d\r\n\r\n$/ },
    {
      name: 'HTTP/1.0 without content-length: close-delimited',
      request: 'GET / HTTP/1.0\r\n\r\n',
      respond: (_q, res) => {
        res.writeHead(200, { date: 'd' });
        res.end(Buffer.from('bye'));
      },
      wire: /^HTTP\/1\.1 200 OK\r\ndate: d\r\nconnection: close\r\n\r\nbye$/,
    },
    {
      name: 'a header value with a line break is not written',
      request: 'GET / HTTP/1.1\r\nhost: a\r\n\r\n',
      respond: reply('x', { 'x-evil': 'a\r\nset-cookie: owned', 'x-fine': 'b' }),
      wire: /^HTTP\/1\.1 200 OK\r\ncontent-length: 1\r\ndate: d\r\nx-fine: b\r\n\r\nx$/,
    },
  ];
  for (const c of framing) {
    it(`response framing: ${c.name}`, async (t) => {
      const { port } = await serve(t, c.respond);
      const out = await exchange(port, [c.request], /\r\n\r\n(hello|x|0\r\n[^]*\r\n\r\n|)$/);
      assert.match(out, c.wire);
    });
  }

  it('answers pipelined requests in order, even when the first finishes last', async (t) => {
    const pending: Http1Response[] = [];
    const { port } = await serve(t, (req, res) => {
      if (req.path === '/slow') {
        pending.push(res);
        setTimeout(() => reply('slow')(req, res), 50);
      } else reply('fast')(req, res);
    });
    const out = await exchange(port, ['GET /slow HTTP/1.1\r\nhost: a\r\n\r\nGET /fast HTTP/1.1\r\nhost: a\r\n\r\n'], /fast$/);
    assert.match(out, /slow[^]*fast$/);
  });

  // Envoy's codec parses one request at a time (codec_impl.cc pauses llhttp at each message's end until the
  // response is done), so a broken request pipelined behind others is answered after them, never before.
  const brokenBehind: { name: string; bytes: string; before: RegExp; code: string; handed: string[] }[] = [
    { name: 'a bad request line', bytes: 'GET /slow HTTP/1.1\r\nhost: a\r\n\r\nGARBAGE\r\n\r\n', before: /slow/, code: 'HPE_INVALID_METHOD', handed: ['/slow'] },
    { name: 'a bad request line behind two', bytes: 'GET /slow HTTP/1.1\r\nhost: a\r\n\r\nGET /fast HTTP/1.1\r\nhost: a\r\n\r\nGARBAGE\r\n\r\n', before: /slow[^]*fast/, code: 'HPE_INVALID_METHOD', handed: ['/slow', '/fast'] },
    { name: 'a transfer coding besides chunked', bytes: 'GET /slow HTTP/1.1\r\nhost: a\r\n\r\nPOST /te HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n', before: /slow/, code: 'ISM_TRANSFER_ENCODING', handed: ['/slow'] },
    {
      name: 'a chunked body that breaks off (that request is never handed over)',
      bytes: 'GET /slow HTTP/1.1\r\nhost: a\r\n\r\nPOST /broken HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
      before: /slow/,
      code: 'HPE_INVALID_CHUNK_SIZE',
      handed: ['/slow'],
    },
  ];
  for (const c of brokenBehind) {
    it(`a codec error in a pipelined request is answered after the responses before it: ${c.name}`, async (t) => {
      const { port, seen } = await serve(t, (req, res) => {
        if (req.path === '/slow') setTimeout(() => reply('slow')(req, res), 50);
        else reply('fast')(req, res);
      });
      const out = await exchange(port, [c.bytes]);
      assert.match(out, new RegExp(`^HTTP/1\\.1 200 OK[^]*${c.before.source}HTTP/1\\.1 400 [^]*${c.code}$`));
      assert.deepEqual([seen.requests.map((r) => r.path), seen.errors], [c.handed, [c.code]]);
    });
  }

  // Envoy's ActiveStream::encodeHeaders: a response that starts before its request has all arrived says
  // `connection: close` and the connection ends after it, without waiting for the rest of the request.
  it('streams a request body, and closes the connection after a response that did not wait for the rest of it', async (t) => {
    const bodies: string[] = [];
    let early = 0;
    const { port, seen } = await serve(t, (req, res) => {
      if (req.path === '/early') return reply('early')(req, res);
      let b = '';
      req.body.on('data', (d: Buffer) => (b += d.toString()));
      req.body.on('end', () => {
        bodies.push(b);
        reply('read')(req, res);
      });
    }, false, { accept: true }, () => early++);
    const out = await exchange(port, ['POST /read HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n3\r\nxyz\r\n', '0\r\n\r\n', 'POST /early HTTP/1.1\r\nhost: a\r\ncontent-length: 6\r\n\r\nab', 'cdef', 'GET /never HTTP/1.1\r\nhost: a\r\n\r\n']);
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n(?:(?!connection: close)[^])*\r\n\r\nread/);
    assert.match(out, /read(HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n[^]*early)$/);
    assert.deepEqual([bodies, seen.requests.map((r) => r.path), early], [['xyz'], ['/read', '/early'], 1]);
  });

  // Whether and when to answer an expectation is the connection manager's (proxy_100_continue): the codec hands
  // it on and writes the 100 when told to, before the response head and never to an HTTP/1.0 client.
  it('hands Expect: 100-continue to the connection manager and writes its 100 Continue before the response', async (t) => {
    const { port, seen } = await serve(t, (req, res) => {
      res.writeContinue();
      req.body.resume();
      req.body.on('end', () => {
        reply('got')(req, res);
        res.writeContinue(); // too late: the head has started
      });
    });
    const out = await exchange(port, ['POST / HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\n', 'hi'], /got$/);
    assert.match(out, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    assert.equal(out.split('100 Continue').length, 2);
    assert.equal(seen.requests[0]?.headers['expect'], '100-continue');
    const http10 = await exchange(port, ['POST / HTTP/1.0\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\n', 'hi'], /got$/);
    assert.match(http10, /^HTTP\/1\.1 200 OK\r\n/);
  });

  // Envoy refuses HTTP/1.0 unless http_protocol_options.accept_http_10 (codec_impl.cc checkProtocolVersion:
  // 426 Upgrade Required); accepted, a request without Host gets default_host_for_http_10.
  it('HTTP/1.0: refused as a codec error unless accepted; accepted, a missing Host is the configured default', async (t) => {
    const refusing = await serve(t, reply('no'), false, { accept: false });
    const out = await exchange(refusing.port, ['GET / HTTP/1.0\r\nhost: a\r\n\r\n']);
    assert.match(out, /^HTTP\/1\.1 400 [^]*ISM_HTTP10$/);
    assert.deepEqual([refusing.seen.errors, refusing.seen.requests.length], [['ISM_HTTP10'], 0]);
    const accepting = await serve(t, reply('yes'), false, { accept: true, defaultHost: 'fallback.example' });
    assert.match(await exchange(accepting.port, ['GET / HTTP/1.0\r\n\r\n'], /yes$/), /yes$/);
    assert.match(await exchange(accepting.port, ['GET / HTTP/1.0\r\nHost: given.example\r\n\r\n'], /yes$/), /yes$/);
    assert.deepEqual(accepting.seen.requests.map((r) => [r.protocol, r.authority]), [['HTTP/1.0', 'fallback.example'], ['HTTP/1.0', 'given.example']]);
  });

  const refused: { name: string; bytes: string; code: string }[] = [
    { name: 'a transfer coding besides chunked', bytes: 'POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n', code: 'ISM_TRANSFER_ENCODING' },
    { name: 'a bad request line', bytes: 'GARBAGE\r\n\r\n', code: 'HPE_INVALID_METHOD' },
    { name: 'Content-Length with Transfer-Encoding', bytes: 'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n', code: 'HPE_INVALID_TRANSFER_ENCODING' },
    { name: 'headers over the size limit', bytes: `GET / HTTP/1.1\r\nhost: a\r\nx: ${'a'.repeat(9000)}\r\n\r\n`, code: 'HPE_HEADER_OVERFLOW' },
    { name: 'a truncated head at end of input', bytes: 'GET / HTTP/1.1\r\nhost: a\r\n', code: 'HPE_INVALID_EOF_STATE' },
  ];
  for (const c of refused) {
    it(`codec errors go to the connection manager, the request never does: ${c.name}`, async (t) => {
      const { port, seen } = await serve(t, reply('no'));
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      const out = await new Promise<string>((resolve) => {
        let o = '';
        s.on('data', (d) => (o += d.toString()));
        s.on('close', () => resolve(o));
        s.end(c.bytes);
      });
      assert.match(out, new RegExp(`^HTTP/1\\.1 400 [^]*${c.code}$`));
      assert.deepEqual([seen.errors, seen.requests.length], [[c.code], 0]);
    });
  }

  it('timeouts: a head that does not arrive is a codec error; an idle keep-alive connection is closed', async (t) => {
    const { port, seen } = await serve(t, reply('ok'));
    const timeouts = { headersTicks: 2, requestTicks: 0, idleTicks: 3, maxDurationTicks: 0, drainTicks: 0 };
    const slow = connect(port, '127.0.0.1');
    slow.on('error', () => undefined);
    slow.write('GET / HTTP/1.1\r\n');
    const idle = connect(port, '127.0.0.1');
    let idleClosed = false;
    idle.on('close', () => (idleClosed = true));
    idle.resume();
    idle.write('GET / HTTP/1.1\r\nhost: a\r\n\r\n');
    while (seen.requests.length < 1 || seen.conns.length < 2) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    const check = (tick: number): void => {
      seen.clock.tick = tick;
      for (const c of seen.conns) c.check(tick, timeouts);
    };
    check(2);
    assert.deepEqual([seen.errors, idleClosed], [[], false], 'nothing is due yet');
    check(3);
    assert.deepEqual(seen.errors, ['HPE_HEADERS_TIMEOUT']);
    check(4);
    while (!idleClosed) await new Promise((r) => setTimeout(r, 5));
    slow.destroy();
  });

  it('a client that goes away mid-response: reset hooks run and the stream ends aborted', async (t) => {
    const events: string[] = [];
    let started: () => void = () => undefined;
    const startedP = new Promise<void>((r) => (started = r));
    const { port } = await serve(t, (_req, res) => {
      res.onReset(() => events.push('reset'));
      res.onDone = (aborted) => events.push(`done aborted=${aborted}`);
      res.writeHead(200, {});
      res.write(Buffer.from('partial'));
      started();
    });
    const s = connect(port, '127.0.0.1');
    s.write('GET / HTTP/1.1\r\nhost: a\r\n\r\n');
    await startedP;
    s.destroy();
    while (events.length < 2) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(events, ['reset', 'done aborted=true']);
  });

  it('an upgrade leaves the codec with the bytes that followed its head', async (t) => {
    const { port, seen } = await serve(t, reply('no'));
    const out = await exchange(port, ['GET /ws HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\nfirst-frame']);
    assert.match(out, /^HTTP\/1\.1 101 /);
    assert.deepEqual(seen.upgrades.map((u) => [u.req.path, u.head]), [['/ws', 'first-frame']]);
  });

  it('drain with a drain time: an idle connection stays open until its tick, then closes; without one it closes now', async (t) => {
    const { port, seen } = await serve(t, reply('ok'));
    const timeouts = { headersTicks: 0, requestTicks: 0, idleTicks: 0, maxDurationTicks: 0, drainTicks: 0 };
    const open = async (): Promise<{ closed: () => boolean }> => {
      const s = connect(port, '127.0.0.1');
      let closed = false;
      s.on('close', () => (closed = true));
      s.on('error', () => undefined);
      s.resume();
      s.write('GET / HTTP/1.1\r\nhost: a\r\n\r\n');
      const n = seen.requests.length;
      while (seen.requests.length === n) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20)); // the response is out: the connection is idle
      t.after(() => s.destroy());
      return { closed: () => closed };
    };
    const kept = await open();
    const cut = await open();
    const [keptConn, cutConn] = seen.conns;
    seen.clock.tick = 10;
    keptConn?.drain(15);
    cutConn?.drain();
    // Both closes would take the same path: once the one without a drain time has closed, the other would have.
    while (!cut.closed()) await new Promise((r) => setTimeout(r, 5));
    assert.equal(kept.closed(), false, 'a drain time keeps the idle connection open');
    keptConn?.check(14, timeouts);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(kept.closed(), false, 'still within the drain time');
    keptConn?.check(15, timeouts);
    while (!kept.closed()) await new Promise((r) => setTimeout(r, 5));
  });

  it('draining: responses say connection: close and the connection ends after them', async (t) => {
    const { port } = await serve(t, reply('bye'), true);
    const out = await exchange(port, ['GET / HTTP/1.1\r\nhost: a\r\n\r\n']);
    assert.match(out, /^HTTP\/1\.1 200 OK\r\ncontent-length: 3\r\ndate: d\r\nconnection: close\r\n\r\nbye$/);
  });
});
