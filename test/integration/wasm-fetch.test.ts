// Module fetching end to end: a real OCI registry (Debian's docker-registry) serving wasm images in the
// formats Istio reads, a local HTTP server failing before it serves, and files on disk. What a user sees:
// the right module bytes, the cache answering when the registry is gone, Always following a moved tag,
// and refusals naming the URL and the reason.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createModuleFetcher } from '../../src/proxy/wasm/fetch/module-fetcher.js';
import type { ModuleFetcher, ModuleFetchRequest, ModuleFetchResult } from '../../src/proxy/wasm/fetch/module-fetcher.js';
import { registryInstalled, startOciRegistry } from '../support/oci-registry.js';
import type { OciRegistry } from '../support/oci-registry.js';

/** A valid, distinct wasm module: the 8-byte header and a custom section named `isthmus` carrying `tag`. */
function wasmModule(tag: string): Uint8Array {
  const name = Buffer.from('isthmus');
  const payload = Buffer.from(tag);
  const body = Buffer.concat([Buffer.from([name.length]), name, payload]);
  assert.ok(body.length < 128);
  const bytes = new Uint8Array(Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, body.length]), body]));
  assert.ok(WebAssembly.validate(bytes));
  return bytes;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const tmpDirs: string[] = [];
const fetchers: ModuleFetcher[] = [];
async function newFetcher(cacheDir?: string): Promise<{ fetcher: ModuleFetcher; cacheDir: string }> {
  const dir = cacheDir ?? (await mkdtemp(join(tmpdir(), 'isthmus-wasm-cache-')));
  if (!cacheDir) tmpDirs.push(dir);
  const fetcher = createModuleFetcher({ cacheDir: dir, httpAttempts: 3, initialBackoffMs: 1, httpTimeoutMs: 5000 });
  fetchers.push(fetcher);
  return { fetcher, cacheDir: dir };
}

function ok(r: ModuleFetchResult): Extract<ModuleFetchResult, { ok: true }> {
  if (!r.ok) assert.fail(`expected a module, got ${r.code}: ${r.error}`);
  return r;
}
function failed(r: ModuleFetchResult): Extract<ModuleFetchResult, { ok: false }> {
  if (r.ok) assert.fail(`expected a failure, got a module from ${r.source}`);
  return r;
}

after(async () => {
  await Promise.all(fetchers.map((f) => f.close()));
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
});

const skipRegistry = registryInstalled() ? false : 'docker-registry is not installed (apt-get install docker-registry)';

describe('oci:// from a real registry', { skip: skipRegistry }, () => {
  let reg: OciRegistry;
  before(async () => {
    reg = await startOciRegistry();
  });
  after(async () => {
    await reg?.stop();
  });

  const formats = [
    { name: 'OCI wasm artifact (the layer is the module)', push: (r: OciRegistry, repo: string, m: Uint8Array) => r.pushWasmArtifact(repo, 'v1', m) },
    { name: 'Docker image with plugin.wasm in a gzipped tar layer', push: (r: OciRegistry, repo: string, m: Uint8Array) => r.pushTarImage(repo, 'v1', { 'plugin.wasm': m }, 'docker') },
    { name: 'OCI image with plugin.wasm in a sub-directory of its tar layer', push: (r: OciRegistry, repo: string, m: Uint8Array) => r.pushTarImage(repo, 'v1', { 'README.md': new Uint8Array(3), 'plugin/plugin.wasm': m }, 'oci') },
  ];
  for (const [i, f] of formats.entries()) {
    it(`pulls by tag: ${f.name}; the second fetch comes from the cache`, async () => {
      const m = wasmModule(`format-${i}`);
      const pushed = await f.push(reg, `plugins/format${i}`, m);
      const { fetcher } = await newFetcher();
      const req: ModuleFetchRequest = { url: `oci://${reg.host}/plugins/format${i}:v1`, resourceName: 'default/p' };
      const first = ok(await fetcher.fetch(req));
      assert.deepEqual(first.bytes, m);
      assert.equal(first.sha256, sha(m));
      assert.equal(first.source, 'network');
      assert.equal(`sha256:${first.digest}`, pushed.digest);
      const second = ok(await fetcher.fetch(req));
      assert.equal(second.source, 'cache');
      assert.deepEqual(second.bytes, m);
    });
  }

  it('pulls by digest, and a URL without a scheme is oci', async () => {
    const m = wasmModule('by-digest');
    const pushed = await reg.pushWasmArtifact('plugins/digest', 'v1', m);
    const { fetcher } = await newFetcher();
    const r = ok(await fetcher.fetch({ url: `${reg.host}/plugins/digest@${pushed.digest}`, resourceName: 'default/p' }));
    assert.deepEqual(r.bytes, m);
    assert.equal(r.source, 'network');
    const again = ok(await fetcher.fetch({ url: `${reg.host}/plugins/digest@${pushed.digest}`, resourceName: 'default/p', pullPolicy: 'Always' }));
    assert.equal(again.source, 'cache', 'a digest reference is served from the cache even with Always');
  });

  it('follows an image index to its linux/amd64 manifest', async () => {
    const arm = await reg.pushWasmArtifact('plugins/index', 'arm', wasmModule('arm64'));
    const amd = await reg.pushWasmArtifact('plugins/index', 'amd', wasmModule('amd64'));
    await reg.pushIndex('plugins/index', 'multi', [
      { ...arm, platform: { os: 'linux', architecture: 'arm64' } },
      { ...amd, platform: { os: 'linux', architecture: 'amd64' } },
    ]);
    const { fetcher } = await newFetcher();
    const r = ok(await fetcher.fetch({ url: `oci://${reg.host}/plugins/index:multi`, resourceName: 'default/p' }));
    assert.deepEqual(r.bytes, wasmModule('amd64'));
  });

  it('Always re-pulls a moved tag; IfNotPresent keeps the cached module; `:latest` unspecified is Always', async () => {
    const v1 = wasmModule('moved-v1');
    const v2 = wasmModule('moved-v2');
    await reg.pushWasmArtifact('plugins/moved', 'stable', v1);
    await reg.pushWasmArtifact('plugins/moved', 'latest', v1);
    const { fetcher } = await newFetcher();
    const url = `oci://${reg.host}/plugins/moved:stable`;
    const latest = `oci://${reg.host}/plugins/moved:latest`;
    assert.deepEqual(ok(await fetcher.fetch({ url, resourceName: 'default/p' })).bytes, v1);
    assert.deepEqual(ok(await fetcher.fetch({ url: latest, resourceName: 'default/p' })).bytes, v1);
    await reg.pushWasmArtifact('plugins/moved', 'stable', v2);
    await reg.pushWasmArtifact('plugins/moved', 'latest', v2);
    const cached = ok(await fetcher.fetch({ url, resourceName: 'default/p', pullPolicy: 'IfNotPresent' }));
    assert.deepEqual(cached.bytes, v1);
    assert.equal(cached.source, 'cache');
    const unspecified = ok(await fetcher.fetch({ url, resourceName: 'default/p' }));
    assert.deepEqual(unspecified.bytes, v1, 'unspecified policy on a non-latest tag is IfNotPresent');
    const always = ok(await fetcher.fetch({ url, resourceName: 'default/p', pullPolicy: 'Always' }));
    assert.deepEqual(always.bytes, v2);
    assert.equal(always.source, 'network');
    assert.deepEqual(ok(await fetcher.fetch({ url: latest, resourceName: 'default/p' })).bytes, v2);
  });

  it('Always with an unchanged resourceVersion uses the cache (Istio), a new version re-resolves', async () => {
    await reg.pushWasmArtifact('plugins/rv', 'v', wasmModule('rv-1'));
    const { fetcher } = await newFetcher();
    const req = { url: `oci://${reg.host}/plugins/rv:v`, resourceName: 'default/p', pullPolicy: 'Always' as const };
    ok(await fetcher.fetch({ ...req, resourceVersion: '1' }));
    await reg.pushWasmArtifact('plugins/rv', 'v', wasmModule('rv-2'));
    assert.deepEqual(ok(await fetcher.fetch({ ...req, resourceVersion: '1' })).bytes, wasmModule('rv-1'));
    assert.deepEqual(ok(await fetcher.fetch({ ...req, resourceVersion: '2' })).bytes, wasmModule('rv-2'));
  });

  it('verifies sha256: the module sha or the manifest digest is accepted, anything else refused', async () => {
    const m = wasmModule('checksum');
    const pushed = await reg.pushWasmArtifact('plugins/checksum', 'v1', m);
    const url = `oci://${reg.host}/plugins/checksum:v1`;
    const cases = [
      { name: 'module sha256', sha256: sha(m), want: true },
      { name: 'manifest digest', sha256: pushed.digest.slice(7), want: true },
      { name: 'another sha256', sha256: sha(wasmModule('other')), want: false },
    ];
    for (const c of cases) {
      const { fetcher } = await newFetcher();
      const r = await fetcher.fetch({ url, sha256: c.sha256, resourceName: 'default/p' });
      if (c.want) assert.deepEqual(ok(r).bytes, m, c.name);
      else {
        const f = failed(r);
        assert.equal(f.code, 'CHECKSUM_MISMATCH', c.name);
        assert.equal(f.error, `module downloaded from ${url} has checksum ${pushed.digest.slice(7)}, which does not match: ${c.sha256}`);
      }
    }
  });

  it('refuses images that do not hold a wasm module, naming the URL and the reason', async () => {
    await reg.pushTarImage('plugins/noplugin', 'v1', { 'filter.wasm': wasmModule('misnamed') }, 'docker');
    await reg.pushWasmArtifact('plugins/notwasm', 'v1', new TextEncoder().encode('#!/bin/sh\necho not wasm\n'));
    const { fetcher } = await newFetcher();
    const cases = [
      { name: 'no plugin.wasm', url: `oci://${reg.host}/plugins/noplugin:v1`, code: 'NO_PLUGIN_WASM', text: 'plugin.wasm not found' },
      { name: 'not \\0asm', url: `oci://${reg.host}/plugins/notwasm:v1`, code: 'NOT_WASM', text: 'is invalid' },
      { name: 'unknown tag', url: `oci://${reg.host}/plugins/notwasm:v9`, code: 'NOT_FOUND', text: '404' },
      { name: 'unknown repository', url: `oci://${reg.host}/plugins/nothing:v1`, code: 'NOT_FOUND', text: '404' },
    ];
    for (const c of cases) {
      const f = failed(await fetcher.fetch({ url: c.url, resourceName: 'default/p' }));
      assert.equal(f.code, c.code, `${c.name}: ${f.error}`);
      assert.ok(f.error.includes(c.url), `${c.name}: ${f.error}`);
      assert.ok(f.error.includes(c.text), `${c.name}: ${f.error}`);
    }
  });

  it('serves cached modules with the registry stopped (IfNotPresent), across fetcher restarts; fails fresh pulls', async () => {
    const own = await startOciRegistry();
    let stopped = false;
    try {
      const m = wasmModule('offline');
      const pushed = await own.pushWasmArtifact('plugins/offline', 'v1', m);
      const { fetcher, cacheDir } = await newFetcher();
      const url = `oci://${own.host}/plugins/offline:v1`;
      ok(await fetcher.fetch({ url, resourceName: 'default/p' }));
      await own.stop();
      stopped = true;
      const { fetcher: restarted } = await newFetcher(cacheDir);
      const cases = [
        { name: 'same fetcher, tag', f: fetcher, req: { url, resourceName: 'default/p' } },
        { name: 'restarted fetcher, tag', f: restarted, req: { url, resourceName: 'default/p', pullPolicy: 'IfNotPresent' as const } },
        { name: 'restarted fetcher, digest', f: restarted, req: { url: `oci://${own.host}/plugins/offline@${pushed.digest}`, resourceName: 'default/p', pullPolicy: 'Always' as const } },
      ];
      for (const c of cases) {
        const r = ok(await c.f.fetch(c.req));
        assert.equal(r.source, 'cache', c.name);
        assert.deepEqual(r.bytes, m, c.name);
      }
      const f = failed(await fetcher.fetch({ url, resourceName: 'default/p', pullPolicy: 'Always' }));
      assert.equal(f.code, 'UNREACHABLE');
      assert.ok(f.error.includes(url), f.error);
    } finally {
      if (!stopped) await own.stop();
    }
  });
});

describe('oci:// from a registry that requires a login', { skip: skipRegistry }, () => {
  let reg: OciRegistry;
  before(async () => {
    reg = await startOciRegistry({ auth: true });
  });
  after(async () => {
    await reg?.stop();
  });

  it('pulls with the pull secret, refuses without it or with a wrong password', async () => {
    const m = wasmModule('private');
    await reg.pushWasmArtifact('private/plugin', 'v1', m);
    const url = `oci://${reg.host}/private/plugin:v1`;
    const cases = [
      { name: 'no pull secret', secret: undefined, ok: false },
      { name: 'secret for another registry', secret: new TextEncoder().encode('{"auths":{"other.example.com":{"auth":"dTpw"}}}'), ok: false },
      { name: 'wrong password', secret: reg.pullSecret('nope'), ok: false },
      { name: 'right credentials', secret: reg.pullSecret(), ok: true },
    ];
    for (const c of cases) {
      const { fetcher } = await newFetcher();
      const r = await fetcher.fetch({ url, resourceName: 'default/p', ...(c.secret ? { pullSecret: c.secret } : {}) });
      if (c.ok) assert.deepEqual(ok(r).bytes, m, c.name);
      else {
        const f = failed(r);
        assert.equal(f.code, 'UNAUTHORIZED', `${c.name}: ${f.error}`);
        assert.ok(f.error.includes(url), `${c.name}: ${f.error}`);
      }
    }
  });
});

describe('http(s):// modules', () => {
  const m = wasmModule('http');
  let base = '';
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    if (path === '/flaky.wasm' && n <= 2) {
      res.writeHead(n === 1 ? 503 : 502).end('try again');
      return;
    }
    if (path === '/flaky.wasm' || path === '/ok.wasm') {
      res.writeHead(200, { 'content-type': 'application/wasm' }).end(m);
      return;
    }
    if (path === '/slow.wasm') {
      setTimeout(() => res.writeHead(200).end(m), 50);
      return;
    }
    if (path === '/boxed.wasm.gz') {
      res.writeHead(200).end(gzipSync(m));
      return;
    }
    if (path === '/always500') {
      res.writeHead(500).end('broken');
      return;
    }
    if (path === '/html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not a module</html>');
      return;
    }
    res.writeHead(404).end('no such module');
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('retries 5xx and then serves the module, verified by sha256 and cached', async () => {
    const { fetcher } = await newFetcher();
    const r = ok(await fetcher.fetch({ url: `${base}/flaky.wasm`, sha256: sha(m), resourceName: 'default/p' }));
    assert.deepEqual(r.bytes, m);
    assert.equal(r.source, 'network');
    assert.equal(hits.get('/flaky.wasm'), 3);
    const again = ok(await fetcher.fetch({ url: `${base}/flaky.wasm`, sha256: sha(m), resourceName: 'default/p' }));
    assert.equal(again.source, 'cache');
    assert.equal(hits.get('/flaky.wasm'), 3);
  });

  it('shares one download between concurrent fetches of the same module', async () => {
    const { fetcher } = await newFetcher();
    const rs = await Promise.all([1, 2, 3].map(() => fetcher.fetch({ url: `${base}/slow.wasm`, resourceName: 'default/p' })));
    for (const r of rs) assert.deepEqual(ok(r).bytes, m);
    assert.equal(hits.get('/slow.wasm'), 1);
  });

  it('unwraps a gzipped module as Istio does', async () => {
    const { fetcher } = await newFetcher();
    assert.deepEqual(ok(await fetcher.fetch({ url: `${base}/boxed.wasm.gz`, resourceName: 'default/p' })).bytes, m);
  });

  it('refuses with the URL and the reason', async () => {
    const { fetcher } = await newFetcher();
    const wrong = sha(wasmModule('other'));
    const cases = [
      { name: 'checksum mismatch', url: `${base}/ok.wasm`, sha256: wrong, code: 'CHECKSUM_MISMATCH', error: `module downloaded from ${base}/ok.wasm has checksum ${sha(m)}, which does not match: ${wrong}` },
      { name: '404', url: `${base}/missing.wasm`, code: 'NOT_FOUND', error: `wasm module download from ${base}/missing.wasm failed: status code 404` },
      { name: '500 after retries', url: `${base}/always500`, code: 'HTTP_STATUS', error: `wasm module download from ${base}/always500 failed: status code 500` },
      { name: 'not wasm', url: `${base}/html`, code: 'NOT_WASM', error: `fetched Wasm binary from ${base}/html is invalid: it does not start with the wasm magic \\0asm` },
      { name: 'unsupported scheme', url: 'ftp://example.com/x.wasm', code: 'BAD_URL', error: 'unsupported Wasm module downloading URL scheme: ftp (ftp://example.com/x.wasm)' },
    ];
    for (const c of cases) {
      const f = failed(await fetcher.fetch({ url: c.url, resourceName: 'default/p', ...(c.sha256 ? { sha256: c.sha256 } : {}) }));
      assert.equal(f.code, c.code, c.name);
      assert.equal(f.error, c.error, c.name);
    }
    assert.equal(hits.get('/always500'), 3, 'bounded retries');
  });

  it('reports an unreachable server', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { fetcher } = await newFetcher();
    const f = failed(await fetcher.fetch({ url: `http://127.0.0.1:${port}/x.wasm`, resourceName: 'default/p' }));
    assert.equal(f.code, 'UNREACHABLE');
    assert.match(f.error, new RegExp(`http://127\\.0\\.0\\.1:${port}/x\\.wasm.*after 3 attempts`));
  });
});

describe('file:// modules', () => {
  it('reads file:// URLs and bare absolute paths, checking sha256 and the wasm magic', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-wasm-file-'));
    tmpDirs.push(dir);
    const m = wasmModule('file');
    await writeFile(join(dir, 'plugin.wasm'), m);
    await writeFile(join(dir, 'notes.txt'), 'hello');
    const fileUrl = pathToFileURL(join(dir, 'plugin.wasm')).href;
    const { fetcher } = await newFetcher();
    const cases = [
      { name: 'file:// URL', url: fileUrl, sha256: sha(m), code: undefined },
      { name: 'bare path', url: join(dir, 'plugin.wasm'), code: undefined },
      { name: 'sha256 with prefix', url: fileUrl, sha256: `sha256:${sha(m)}`, code: undefined },
      { name: 'wrong sha256', url: fileUrl, sha256: sha(wasmModule('x')), code: 'CHECKSUM_MISMATCH' },
      { name: 'not wasm', url: join(dir, 'notes.txt'), code: 'NOT_WASM' },
      { name: 'missing', url: join(dir, 'missing.wasm'), code: 'FILE_READ' },
    ];
    for (const c of cases) {
      const r = await fetcher.fetch({ url: c.url, resourceName: 'default/p', ...(c.sha256 ? { sha256: c.sha256 } : {}) });
      if (c.code === undefined) {
        const got = ok(r);
        assert.equal(got.source, 'file', c.name);
        assert.deepEqual(got.bytes, m, c.name);
      } else {
        const f = failed(r);
        assert.equal(f.code, c.code, `${c.name}: ${f.error}`);
        assert.ok(f.error.includes(c.url), `${c.name}: ${f.error}`);
      }
    }
  });
});
