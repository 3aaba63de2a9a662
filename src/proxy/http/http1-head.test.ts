import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { headerLines, httpDateLine, isWritableHeader, latin1Wire, latin1WireValue, rawHeader, requestHead, requestHeaderMap, responseHeadView, responseHeaderMap, statusLine } from './http1-head.js';
import type { HeaderMap } from './headers.js';

describe('HTTP/1.1 heads', () => {
  const writable: { name: string; header: [string, string]; ok: boolean }[] = [
    { name: 'a token name and a plain value', header: ['x-request-id', 'a b\tc'], ok: true },
    { name: 'obs-text in a value', header: ['x', 'caf\u00e9'], ok: true },
    { name: 'CRLF in a value (response splitting)', header: ['x', 'a\r\nset-cookie: s'], ok: false },
    { name: 'a bare LF in a value', header: ['x', 'a\nb'], ok: false },
    { name: 'NUL in a value', header: ['x', 'a\u0000b'], ok: false },
    { name: 'a space in a name', header: ['bad name', 'v'], ok: false },
    { name: 'a colon in a name', header: ['x:y', 'v'], ok: false },
    { name: 'an empty name', header: ['', 'v'], ok: false },
  ];
  for (const c of writable) {
    it(`writable header: ${c.name}`, () => assert.equal(isWritableHeader(...c.header), c.ok));
  }

  it('request headers merge as node:http merges them', () => {
    const list = ['Host', 'a', 'host', 'b', 'Cookie', 'c=1', 'cookie', 'd=2', 'Accept', 'x', 'accept', 'y', 'Set-Cookie', 's', 'Content-Length', '1', 'content-length', '2'];
    assert.deepEqual(requestHeaderMap(list), { host: 'a', cookie: 'c=1; d=2', accept: 'x, y', 'set-cookie': ['s'], 'content-length': '1' });
  });

  it('response headers keep repeats as lists and leave out hop-by-hop headers', () => {
    const list = ['Set-Cookie', 'a', 'set-cookie', 'b', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'X-One', '1'];
    assert.deepEqual(responseHeaderMap(list), { 'set-cookie': ['a', 'b'], 'x-one': '1' });
    assert.equal(rawHeader(list, 'keep-alive'), 'timeout=5');
    assert.equal(rawHeader(list, 'absent'), undefined);
  });

  it('header lines: lists as repeated lines, unwritable headers left out', () => {
    assert.equal(headerLines({ a: '1', b: ['2', '3'], c: undefined, 'd e': 'x', f: 'x\r\ny' }), 'a: 1\r\nb: 2\r\nb: 3\r\n');
  });

  // requestHead() writes bytes itself: it must give what node writes for the string of the same lines.
  it('request heads are the request line, the writable header lines and the extra lines, latin1', () => {
    const asString = (method: string, path: string, h: HeaderMap, extra: string) => Buffer.from(`${method} ${path} HTTP/1.1\r\n${headerLines(h)}${extra}\r\n`, 'latin1');
    const cases: [string, string, HeaderMap, string][] = [
      ['GET', '/', {}, ''],
      ['GET', '/a?b=c', { host: 'example.com', 'x-request-id': 'abc', accept: '*/*' }, ''],
      ['POST', '/submit', { host: 'h', 'set-cookie': ['a=1', 'b=2'], skipped: undefined }, 'content-length: 0\r\nconnection: close\r\n'],
      // Left out as headerLines leaves them out: a name that is not a token, control characters in a value.
      ['GET', '/', { 'bad name': 'x', good: 'y', split: 'a\r\nInjected: 1', nul: 'a\u0000b', tab: 'a\tb', late: 'z' }, ''],
      // U+00E9 stays one byte; a value with a character above U+00FF goes out as UTF-8 (headerLines gives its bytes).
      ['GET', '/caf\u00e9', { v: 'caf\u00e9 \u20ac' }, 'transfer-encoding: chunked\r\n'],
      // Long values (checked against the last ones found writable, then copied natively), good and bad.
      ['GET', '/', { meta: 'm'.repeat(300), id: 'router~10.0.0.1~gw.istio-system~istio-system.svc.cluster.local', bad: `${'x'.repeat(80)}\r\nInjected: 1` }, ''],
      // Larger than the reused buffer: a long target, then many long headers.
      ['GET', `/${'p'.repeat(20_000)}`, { a: 'b' }, ''],
      ['GET', '/', Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`h${i}`, 'v'.repeat(1000)])), ''],
    ];
    for (const [method, path, h, extra] of cases) assert.deepEqual(requestHead(method, path, h, extra), asString(method, path, h, extra), `${method} ${path.slice(0, 20)}`);
    // A head built after a large one is not polluted by its bytes.
    assert.equal(requestHead('GET', '/x', { a: '1' }, '').toString('latin1'), 'GET /x HTTP/1.1\r\na: 1\r\n\r\n');
  });

  it('a value with characters above U+00FF goes out as UTF-8, never as low bytes that would split the head', () => {
    // Written as latin1, U+010A would lose its high byte and become a bare LF: a second header, or a second request.
    const evil = 'a\u010aInjected: 1';
    for (const value of [evil, `${'v'.repeat(70)}${evil}`]) {
      const head = requestHead('GET', '/', { x: value, after: '1' }, '');
      assert.equal(head.toString('utf8'), `GET / HTTP/1.1\r\nx: ${value}\r\nafter: 1\r\n\r\n`);
      assert.equal(head.indexOf('\nInjected'), -1);
      assert.ok(head.includes(Buffer.from([0xc4, 0x8a])), 'U+010A as its UTF-8 bytes');
      assert.equal(responseHeadView(200, { x: value }, '').toString('utf8'), `HTTP/1.1 200 OK\r\nx: ${value}\r\n\r\n`);
    }
    assert.equal(Buffer.from(headerLines({ x: evil }), 'latin1').toString('utf8'), `x: ${evil}\r\n`, 'trailers too');
    // A request target rewritten from config: the same.
    const target = requestHead('GET', '/caf\u00e9/\u010a', { a: '1' }, '');
    assert.equal(target.toString('utf8'), 'GET /caf\u00e9/\u010a HTTP/1.1\r\na: 1\r\n\r\n');
    assert.equal(requestHead('GET', '/caf\u00e9', {}, '').toString('latin1'), 'GET /caf\u00e9 HTTP/1.1\r\n\r\n', 'a target off the wire keeps its bytes');
    // Control characters still keep the header out, wherever they are.
    assert.equal(requestHead('GET', '/', { x: '\u20ac\r\nInjected: 1', y: '1' }, '').toString('latin1'), 'GET / HTTP/1.1\r\ny: 1\r\n\r\n');
    assert.equal(isWritableHeader('x', '\u20ac\n'), false);
    assert.equal(isWritableHeader('x', '\u20ac'), true);
  });

  it('for HTTP/2 (node sends low bytes): values as the strings of their wire bytes, lists copied only when one changes', () => {
    assert.equal(latin1Wire('caf\u00e9'), 'caf\u00e9');
    const list = ['a', 'b'];
    assert.equal(latin1WireValue(list), list, 'an unchanged list is not copied');
    const mixed = ['a', '\u20ac'];
    assert.deepEqual(latin1WireValue(mixed), ['a', Buffer.from('\u20ac').toString('latin1')]);
    assert.deepEqual(mixed, ['a', '\u20ac'], 'the original list is left as it was');
  });

  it('a long value found writable once is not taken for another of the same length', () => {
    const good = 'g'.repeat(100);
    const bad = `${'g'.repeat(97)}\r\n!`;
    assert.equal(bad.length, good.length);
    for (let i = 0; i < 3; i++) {
      assert.equal(requestHead('GET', '/', { a: good }, '').toString('latin1'), `GET / HTTP/1.1\r\na: ${good}\r\n\r\n`);
      assert.equal(requestHead('GET', '/', { a: bad }, '').toString('latin1'), 'GET / HTTP/1.1\r\n\r\n');
    }
  });

  it('response heads are the status line, the writable header lines and the extra lines; the view is reused', () => {
    const h = { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], bad: 'x\ny', server: 'istio-envoy' };
    const extra = `${httpDateLine(Date.UTC(2026, 10, 28, 5, 0, 0))}transfer-encoding: chunked\r\n`;
    assert.match(extra, /^date: Sat, 28 Nov 2026 05:00:00 GMT\r\n/);
    const view = responseHeadView(404, h, extra);
    const expected = `${statusLine(404)}${headerLines(h)}${extra}\r\n`;
    assert.equal(view.toString('latin1'), expected);
    const copy = Buffer.from(view);
    responseHeadView(200, { other: 'head' }, '');
    assert.equal(copy.toString('latin1'), expected, 'a copy taken at once keeps the head');
    assert.notEqual(view.toString('latin1'), expected, 'the view itself is overwritten by the next head');
  });

  it('status lines carry the reason phrase', () => {
    assert.deepEqual([statusLine(200), statusLine(503), statusLine(599)], ['HTTP/1.1 200 OK\r\n', 'HTTP/1.1 503 Service Unavailable\r\n', 'HTTP/1.1 599 Unknown\r\n']);
  });
});
