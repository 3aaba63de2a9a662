// The control plane's JWKS resolver against a real HTTP server on 127.0.0.1: first sight of a source starts
// a fetch and reports a change; OpenID discovery finds the keys from the issuer; a refresh picks up a
// rotated key set; an unreachable or non-JWKS source reads as '' and a failed refresh keeps the last good
// keys. Refresh time is a scripted clock; fetches are real.

import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../lib/clock.js';
import { waitFor } from '../../test/support/wait.js';
import { JwksResolver } from './jwks-resolver.js';

const KEYS_A = '{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}';
const KEYS_B = '{"keys":[{"kty":"RSA","kid":"b","n":"AQAB","e":"AQAB"}]}';

/** A clock whose timers fire only when the test says so. */
function scriptedClock(): Clock & { fire(ms: number): void; pending(ms: number): boolean } {
  const timers: { fn: () => void; ms: number; live: boolean }[] = [];
  return {
    now: () => 0,
    setTimeout(fn, ms) {
      const t = { fn, ms, live: true };
      timers.push(t);
      return { cancel: () => void (t.live = false) };
    },
    pending: (ms) => timers.some((t) => t.live && t.ms === ms),
    fire(ms) {
      for (const t of timers.splice(0)) if (t.live && t.ms === ms) t.fn();
      else if (t.live) timers.push(t);
    },
  };
}

let server: Server;
let base = '';
let keys = KEYS_A;
let up = true;

before(async () => {
  server = createServer((req, res) => {
    if (!up) return void res.writeHead(503).end('down');
    if (req.url === '/keys.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(keys);
    if (req.url === '/.well-known/openid-configuration') return void res.writeHead(200).end(JSON.stringify({ issuer: base, jwks_uri: `${base}/keys.json` }));
    if (req.url === '/html') return void res.writeHead(200).end('<html>not keys</html>');
    res.writeHead(404).end('nope');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((r) => server.close(() => r())));

describe('JwksResolver', () => {
  it('fetches a jwksUri on first sight, reports the change, and refreshes a rotated key set', async () => {
    keys = KEYS_A;
    up = true;
    const clock = scriptedClock();
    let changes = 0;
    const r = new JwksResolver({ clock, refreshMs: 1000, onChange: () => changes++ });
    const uri = `${base}/keys.json`;
    assert.equal(r.resolve([uri]).get(uri), undefined, 'nothing cached yet: resolve never waits');
    await waitFor(() => r.resolve([uri]).get(uri) === KEYS_A, 'first fetch');
    assert.equal(changes, 1);
    keys = KEYS_B;
    clock.fire(1000);
    await waitFor(() => r.resolve([uri]).get(uri) === KEYS_B, 'refresh');
    assert.equal(changes, 2);
    clock.fire(1000);
    await waitFor(() => changes === 2 && r.resolve([uri]).get(uri) === KEYS_B, 'unchanged refresh');
    r.close();
  });

  it('resolves an issuer through OpenID discovery', async () => {
    keys = KEYS_A;
    up = true;
    const r = new JwksResolver({ clock: scriptedClock(), onChange: () => undefined });
    const src = `${base}/.well-known/openid-configuration`;
    r.resolve([src]);
    await waitFor(() => r.resolve([src]).get(src) === KEYS_A, 'discovery then keys');
    r.close();
  });

  it('an unreachable endpoint, an error status and a non-JWKS body read as empty', async () => {
    const dead = createServer();
    await new Promise<void>((res) => dead.listen(0, '127.0.0.1', res));
    const deadUri = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/keys.json`;
    await new Promise<void>((res) => dead.close(() => res()));
    const r = new JwksResolver({ clock: scriptedClock(), onChange: () => undefined });
    const uris = [deadUri, `${base}/missing`, `${base}/html`];
    r.resolve(uris);
    await waitFor(() => {
      const m = r.resolve(uris);
      return uris.every((u) => m.get(u) === '');
    }, 'all three failed');
    r.close();
  });

  it('a failed refresh keeps the last good keys; recovery reports the new ones', async () => {
    keys = KEYS_A;
    up = true;
    const clock = scriptedClock();
    let changes = 0;
    const r = new JwksResolver({ clock, refreshMs: 1000, failureRefreshMs: 100, onChange: () => changes++ });
    const uri = `${base}/keys.json`;
    r.resolve([uri]);
    await waitFor(() => r.resolve([uri]).get(uri) === KEYS_A, 'first fetch');
    up = false;
    clock.fire(1000);
    // The failed refresh re-arms the shorter failure interval once it has completed.
    await waitFor(() => clock.pending(100), 'failed refresh');
    assert.equal(r.resolve([uri]).get(uri), KEYS_A);
    assert.equal(changes, 1);
    up = true;
    keys = KEYS_B;
    await waitFor(() => {
      clock.fire(100);
      return r.resolve([uri]).get(uri) === KEYS_B;
    }, 'retry after failure uses the shorter interval');
    assert.equal(changes, 2);
    r.close();
    up = true;
  });
});
