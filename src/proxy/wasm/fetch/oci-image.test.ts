// The registry conversation against a fake registry whose manifests and blobs sit behind the Bearer token
// flow (what Docker Hub, GHCR and most hosted registries do); the real-registry suite covers Basic auth.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../../lib/clock.js';
import { createHttpClient } from './http-client.js';
import { MEDIA_OCI_MANIFEST, MEDIA_WASM_LAYER, resolveImage } from './oci-image.js';
import { parseOciReference } from './oci-reference.js';
import type { OciReference } from './oci-reference.js';

const wasm = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
const digestOf = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const layer = { mediaType: MEDIA_WASM_LAYER, digest: digestOf(wasm), size: wasm.length };
const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_MANIFEST, config: layer, layers: [layer] });
const secret = (user: string, pass: string): Uint8Array =>
  new TextEncoder().encode(JSON.stringify({ auths: { [host]: { username: user, password: pass } } }));

let host = '';
const tokenRequests: string[] = [];
const server = createServer((req, res) => {
  const u = new URL(req.url ?? '/', `http://${host}`);
  if (u.pathname === '/token') {
    tokenRequests.push(u.search);
    if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) return void res.writeHead(401).end();
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `tok-${u.searchParams.get('scope')}` }));
  }
  const repo = u.pathname.split('/').slice(2, 4).join('/');
  if (req.headers.authorization !== `Bearer tok-repository:${repo}:pull`) {
    res.writeHead(401, {
      'www-authenticate': `Bearer realm="http://${host}/token",service="fake-registry",scope="repository:${repo}:pull"`,
      'content-type': 'application/json',
    });
    return void res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
  }
  if (u.pathname.endsWith('/manifests/v1')) return void res.writeHead(200, { 'content-type': MEDIA_OCI_MANIFEST }).end(manifest);
  if (u.pathname.endsWith(`/blobs/${layer.digest}`)) {
    return void res.writeHead(200).end(repo === 'p/tampered' ? new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]) : wasm);
  }
  res.writeHead(404).end();
});

const http = createHttpClient({ clock: systemClock, timeoutMs: 5000, attempts: 1, initialBackoffMs: 1, maxBackoffMs: 1 });
function ref(s: string): OciReference {
  const r = parseOciReference(s);
  assert.ok(typeof r !== 'string');
  return r;
}

describe('resolveImage with the Bearer token flow', () => {
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await http.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('gets a token from the realm with the pull secret, then the manifest and the verified blob', async () => {
    tokenRequests.length = 0;
    const url = `oci://${host}/p/x:v1`;
    const img = await resolveImage(ref(url), url, { http, pullSecret: secret('u', 'p'), insecure: () => false, maxModuleBytes: 1 << 20, log: () => undefined });
    assert.equal(`sha256:${img.digest}`, digestOf(manifest));
    assert.deepEqual(await img.pull(), wasm);
    assert.deepEqual(tokenRequests, ['?service=fake-registry&scope=repository%3Ap%2Fx%3Apull']);
  });

  const refusals = [
    { name: 'no pull secret', secret: (): undefined => undefined, code: 'UNAUTHORIZED', text: 'no pull secret has credentials' },
    { name: 'wrong password', secret: (): Uint8Array => secret('u', 'bad'), code: 'UNAUTHORIZED', text: 'refused the pull secret credentials' },
  ];
  for (const c of refusals) {
    it(`refuses: ${c.name}`, async () => {
      const url = `oci://${host}/p/x:v1`;
      const pullSecret = c.secret();
      await assert.rejects(
        resolveImage(ref(url), url, { http, ...(pullSecret ? { pullSecret } : {}), insecure: () => false, maxModuleBytes: 1 << 20, log: () => undefined }),
        (err: Error & { code?: string }) => err.code === c.code && err.message.includes(c.text) && err.message.includes(url),
      );
    });
  }

  it('refuses a blob whose bytes do not match its digest', async () => {
    const url = `oci://${host}/p/tampered:v1`;
    const img = await resolveImage(ref(url), url, { http, pullSecret: secret('u', 'p'), insecure: () => false, maxModuleBytes: 1 << 20, log: () => undefined });
    await assert.rejects(img.pull(), { code: 'CHECKSUM_MISMATCH' });
  });

  it('refuses a layer larger than the module limit before downloading it', async () => {
    const url = `oci://${host}/p/x:v1`;
    const img = await resolveImage(ref(url), url, { http, pullSecret: secret('u', 'p'), insecure: () => false, maxModuleBytes: 4, log: () => undefined });
    await assert.rejects(img.pull(), { code: 'TOO_LARGE' });
  });
});
