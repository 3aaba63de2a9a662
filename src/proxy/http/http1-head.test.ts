import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { headerLines, isWritableHeader, rawHeader, requestHeaderMap, responseHeaderMap, statusLine } from './http1-head.js';

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

  it('status lines carry the reason phrase', () => {
    assert.deepEqual([statusLine(200), statusLine(503), statusLine(599)], ['HTTP/1.1 200 OK\r\n', 'HTTP/1.1 503 Service Unavailable\r\n', 'HTTP/1.1 599 Unknown\r\n']);
  });
});
