// The on-disk module cache: module files named `<sha256>.wasm` under the cache directory, and an index
// (index.json) from a URL (an http URL, or an OCI reference with its tag) and from an OCI manifest digest
// to the module's sha256, with sizes and last use for LRU eviction. The index survives restarts, so a proxy
// that restarts while the registry is down still starts its plugins (Istio keeps its index in memory only).
// Files are written to a temporary name and renamed, so a crash never leaves a half module under its sha.
// It decides nothing about pull policy; module-fetcher.ts does.

import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../../lib/clock.js';
import { sha256Hex } from './fetch-error.js';

export interface ModuleCache {
  /** The module with this sha256, verified against its name; undefined when absent or damaged. */
  read(sha: string): Promise<Uint8Array | undefined>;
  /** The module sha256 last fetched for `url` (http URL or canonical OCI reference). */
  forUrl(url: string): string | undefined;
  /** The module sha256 of the OCI image whose manifest digest (hex) is `digest`. */
  forDigest(digest: string): string | undefined;
  /** Stores a module (no-op when present) and points `url` and `digest` at it; evicts past the size bound. */
  store(bytes: Uint8Array, sha: string, refs: { url?: string; digest?: string }): Promise<void>;
  /** Points `url` / `digest` at an already stored module. */
  link(sha: string, refs: { url?: string; digest?: string }): Promise<void>;
}

interface IndexFile {
  version: 1;
  urls: Record<string, string>;
  digests: Record<string, string>;
  modules: Record<string, { size: number; lastUsed: number }>;
}

const SHA = /^[a-f0-9]{64}$/;

function emptyIndex(): IndexFile {
  return { version: 1, urls: {}, digests: {}, modules: {} };
}

function sanitize(raw: unknown): IndexFile {
  const out = emptyIndex();
  if (raw === null || typeof raw !== 'object') return out;
  const r = raw as Record<string, unknown>;
  const strMap = (v: unknown, into: Record<string, string>): void => {
    if (v === null || typeof v !== 'object') return;
    for (const [k, s] of Object.entries(v as Record<string, unknown>)) if (typeof s === 'string' && SHA.test(s)) into[k] = s;
  };
  strMap(r['urls'], out.urls);
  strMap(r['digests'], out.digests);
  const mods = r['modules'];
  if (mods !== null && typeof mods === 'object') {
    for (const [k, v] of Object.entries(mods as Record<string, unknown>)) {
      if (!SHA.test(k) || v === null || typeof v !== 'object') continue;
      const m = v as Record<string, unknown>;
      if (typeof m['size'] === 'number' && typeof m['lastUsed'] === 'number') out.modules[k] = { size: m['size'], lastUsed: m['lastUsed'] };
    }
  }
  return out;
}

export async function openModuleCache(
  dir: string,
  opts: { clock: Clock; maxBytes?: number; log: (msg: string) => void },
): Promise<ModuleCache> {
  await mkdir(dir, { recursive: true });
  const indexPath = join(dir, 'index.json');
  let index: IndexFile;
  try {
    index = sanitize(JSON.parse(await readFile(indexPath, 'utf8')));
  } catch {
    index = emptyIndex();
  }
  let writing: Promise<void> = Promise.resolve();
  let seq = 0;
  const modulePath = (sha: string): string => join(dir, `${sha}.wasm`);

  function persist(): Promise<void> {
    const snapshot = JSON.stringify(index);
    writing = writing.then(async () => {
      const tmp = `${indexPath}.${process.pid}.${seq++}.tmp`;
      try {
        await writeFile(tmp, snapshot);
        await rename(tmp, indexPath);
      } catch (err) {
        opts.log(`wasm: could not write module cache index ${indexPath}: ${(err as Error).message}`);
      }
    });
    return writing;
  }

  function forget(sha: string): void {
    delete index.modules[sha];
    for (const [k, v] of Object.entries(index.urls)) if (v === sha) delete index.urls[k];
    for (const [k, v] of Object.entries(index.digests)) if (v === sha) delete index.digests[k];
  }

  function point(sha: string, refs: { url?: string; digest?: string }): void {
    if (refs.url !== undefined) index.urls[refs.url] = sha;
    if (refs.digest !== undefined) index.digests[refs.digest] = sha;
  }

  async function evict(keep: string): Promise<void> {
    if (opts.maxBytes === undefined) return;
    let total = Object.values(index.modules).reduce((n, m) => n + m.size, 0);
    const byAge = Object.entries(index.modules)
      .filter(([sha]) => sha !== keep)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [sha, m] of byAge) {
      if (total <= opts.maxBytes) break;
      total -= m.size;
      forget(sha);
      await rm(modulePath(sha), { force: true });
      opts.log(`wasm: evicted cached module ${sha} (${m.size} bytes) to stay under ${opts.maxBytes} bytes`);
    }
  }

  return {
    async read(sha) {
      if (!SHA.test(sha)) return undefined;
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(modulePath(sha)));
      } catch {
        if (index.modules[sha]) {
          forget(sha);
          await persist();
        }
        return undefined;
      }
      if (sha256Hex(bytes) !== sha) {
        opts.log(`wasm: cached module ${modulePath(sha)} is damaged; dropping it`);
        forget(sha);
        await rm(modulePath(sha), { force: true });
        await persist();
        return undefined;
      }
      index.modules[sha] = { size: bytes.length, lastUsed: opts.clock.now() };
      await persist();
      return bytes;
    },
    forUrl: (url) => index.urls[url],
    forDigest: (digest) => index.digests[digest],
    async store(bytes, sha, refs) {
      if (!index.modules[sha]) {
        const tmp = `${modulePath(sha)}.${process.pid}.${seq++}.tmp`;
        await writeFile(tmp, bytes);
        await rename(tmp, modulePath(sha));
      }
      index.modules[sha] = { size: bytes.length, lastUsed: opts.clock.now() };
      point(sha, refs);
      await evict(sha);
      await persist();
    },
    async link(sha, refs) {
      point(sha, refs);
      await persist();
    },
  };
}
