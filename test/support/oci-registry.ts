// A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) started on 127.0.0.1 port 0
// with its storage in a temporary directory, optionally behind htpasswd Basic auth, and a small client that
// pushes images through the registry API (blob upload POST + PUT, manifest PUT) in the formats wasm plugins
// ship in: the OCI wasm artifact (the layer is the module) and the Docker / OCI "compat" image (a gzipped
// tar layer holding plugin.wasm), plus image indexes. Tests skip when the binary is not installed.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { killGroup } from './processes.js';
import { waitFor } from './wait.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const REGISTRY_USER = 'wasm';
export const REGISTRY_PASSWORD = 'wasm-pull-secret';
/**
 * bcrypt (cost 4) of REGISTRY_PASSWORD: distribution's htpasswd accepts only bcrypt and node has no bcrypt,
 * so the hash was made once (python3 crypt.crypt with METHOD_BLOWFISH) and is kept here.
 */
const REGISTRY_PASSWORD_BCRYPT = '$2b$04$ZzRbdJqZgv0FBgGWEdT6xO8s98.IQy7Kcb73MCbzpEuz35FRZlZd2';

export const WASM_LAYER = 'application/vnd.module.wasm.content.layer.v1+wasm';
const WASM_CONFIG = 'application/vnd.module.wasm.config.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

export function registryInstalled(): boolean {
  return existsSync(REGISTRY_BIN);
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string };
}

export interface OciRegistry {
  /** `127.0.0.1:<port>`: what goes after `oci://`. */
  host: string;
  /** A docker config JSON holding the registry's credentials (valid or not) for `host`. */
  pullSecret(password?: string): Uint8Array;
  /** OCI artifact: config `application/vnd.module.wasm.config.v1+json`, one wasm layer. */
  pushWasmArtifact(repo: string, tag: string, wasm: Uint8Array): Promise<Descriptor>;
  /** Compat image: one gzipped tar layer with `files`; `docker` picks the Docker schema2 media types. */
  pushTarImage(repo: string, tag: string, files: Record<string, Uint8Array>, format: 'docker' | 'oci'): Promise<Descriptor>;
  /** An OCI image index over manifests already pushed to `repo`. */
  pushIndex(repo: string, tag: string, manifests: Descriptor[]): Promise<Descriptor>;
  stop(): Promise<void>;
}

function sha256(b: Uint8Array): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** A ustar archive of regular files (header checksum computed as the spec says: field read as spaces). */
export function makeTar(files: Record<string, Uint8Array>): Uint8Array {
  const blocks: Buffer[] = [];
  for (const [name, data] of Object.entries(files)) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    h.write('00000000000\0', 136, 'latin1');
    h.write('        ', 148, 'latin1');
    h.write('0', 156, 'latin1');
    h.write('ustar\0' + '00', 257, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    blocks.push(h, Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return new Uint8Array(Buffer.concat(blocks));
}

export async function startOciRegistry(opts: { auth?: boolean } = {}): Promise<OciRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-oci-'));
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    '  addr: 127.0.0.1:0',
    '  secret: isthmus-test-secret',
  ];
  if (opts.auth) {
    await writeFile(join(dir, 'htpasswd'), `${REGISTRY_USER}:${REGISTRY_PASSWORD_BCRYPT}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: isthmus-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  await writeFile(join(dir, 'config.yml'), `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = false;
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  const gone = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  let host: string;
  try {
    host = await waitFor(
      () => {
        if (exited) throw new Error(`docker-registry exited:\n${output}`);
        return /listening on (127\.0\.0\.1:\d+)/.exec(output)?.[1];
      },
      'docker-registry to listen',
      15000,
    );
  } catch (err) {
    killGroup(child.pid);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const base = `http://${host}`;
  const adminAuth = opts.auth
    ? { authorization: `Basic ${Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString('base64')}` }
    : {};

  async function pushBlob(repo: string, data: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256(data);
    const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: adminAuth });
    if (start.status !== 202) throw new Error(`blob upload start answered ${start.status}: ${await start.text()}`);
    const location = new URL(start.headers.get('location') ?? '', base);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { ...adminAuth, 'content-type': 'application/octet-stream' },
      body: data,
    });
    if (put.status !== 201) throw new Error(`blob upload answered ${put.status}: ${await put.text()}`);
    return { mediaType, digest, size: data.length };
  }

  async function pushManifest(repo: string, tag: string, manifest: object, mediaType: string): Promise<Descriptor> {
    const body = new TextEncoder().encode(JSON.stringify(manifest));
    const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, {
      method: 'PUT',
      headers: { ...adminAuth, 'content-type': mediaType },
      body,
    });
    if (res.status !== 201) throw new Error(`manifest PUT answered ${res.status}: ${await res.text()}`);
    return { mediaType, digest: sha256(body), size: body.length };
  }

  return {
    host,
    pullSecret(password = REGISTRY_PASSWORD) {
      const auth = Buffer.from(`${REGISTRY_USER}:${password}`).toString('base64');
      return new TextEncoder().encode(JSON.stringify({ auths: { [host]: { auth } } }));
    },
    async pushWasmArtifact(repo, tag, wasm) {
      const config = await pushBlob(repo, new TextEncoder().encode('{}'), WASM_CONFIG);
      const layer = await pushBlob(repo, wasm, WASM_LAYER);
      return pushManifest(repo, tag, { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }, OCI_MANIFEST);
    },
    async pushTarImage(repo, tag, files, format) {
      const tar = makeTar(files);
      const docker = format === 'docker';
      const layer = await pushBlob(
        repo,
        new Uint8Array(gzipSync(tar)),
        docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip',
      );
      const imageConfig = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(tar)] }, config: {} };
      const config = await pushBlob(
        repo,
        new TextEncoder().encode(JSON.stringify(imageConfig)),
        docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json',
      );
      const mediaType = docker ? DOCKER_MANIFEST : OCI_MANIFEST;
      return pushManifest(repo, tag, { schemaVersion: 2, mediaType, config, layers: [layer] }, mediaType);
    },
    async pushIndex(repo, tag, manifests) {
      return pushManifest(repo, tag, { schemaVersion: 2, mediaType: OCI_INDEX, manifests }, OCI_INDEX);
    },
    async stop() {
      if (!exited && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        const timer = setTimeout(() => killGroup(child.pid), 5000);
        await gone;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
