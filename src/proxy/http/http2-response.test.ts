import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { h2Headers } from './http2-response.js';

describe('h2Headers (the HTTP/2 response head as node writes it)', () => {
  it('puts :status first and keeps what may be written', () => {
    const out = h2Headers(200, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'x-latin': 'caf\u00e9' });
    assert.deepEqual(Object.keys(out), [':status', 'content-type', 'set-cookie', 'x-latin']);
    assert.deepEqual(out, { ':status': 200, 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'x-latin': 'caf\u00e9' });
    assert.deepEqual(h2Headers(undefined, { 'grpc-status': '0' }), { 'grpc-status': '0' }, 'trailers: no status');
  });

  it('sends characters above U+00FF as UTF-8 (node would send each one\'s low byte) and leaves the given map alone', () => {
    const h = { u: '\u010a\u20ac', l: ['x', '\u00e9\u0100'] };
    assert.deepEqual(h2Headers(200, h), { ':status': 200, u: Buffer.from('\u010a\u20ac').toString('latin1'), l: ['x', Buffer.from('\u00e9\u0100').toString('latin1')] });
    assert.deepEqual(h, { u: '\u010a\u20ac', l: ['x', '\u00e9\u0100'] }, 'the access log\'s map is unchanged');
  });

  it('leaves out connection-specific headers (RFC 9113 §8.2.2), but te: trailers', () => {
    const out = h2Headers(200, { connection: 'close', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', upgrade: 'h2c', 'proxy-connection': 'x', te: 'gzip', ok: '1' });
    assert.deepEqual(out, { ':status': 200, ok: '1' });
    assert.deepEqual(h2Headers(undefined, { te: 'trailers' }), { te: 'trailers' });
  });

  it('drops a name that is not a token, a value with a control character, pseudo headers and unset values', () => {
    const long = `${'v'.repeat(100)}\n`;
    const out = h2Headers(200, { 'bad name': 'x', 'x-ctl': 'a\rb', 'x-long': long, ':path': '/', 'x-unset': undefined, 'x-list': ['ok', 'no\u0000'], 'x-none': ['\n'], tab: 'a\tb' });
    assert.deepEqual(out, { ':status': 200, 'x-list': ['ok'], tab: 'a\tb' });
  });
});
