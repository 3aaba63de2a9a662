// How the proxy gets a plugin's module bytes, as Istio's agent does for a WasmPlugin (pkg/wasm/cache.go):
// `file://` (or a bare absolute path) is read as is; `http(s)://` is downloaded with retries; `oci://` (and
// any URL without a scheme, Istio's default) is pulled from a registry. Downloads are verified against the
// given sha256, checked for the wasm magic, stored in the on-disk cache and shared between concurrent
// callers. Pull policy follows Istio: IfNotPresent serves a cached module without network; Always
// re-resolves (unless the same resource at the same resourceVersion already pulled it); unspecified is
// IfNotPresent except for an OCI URL written with `:latest`, which behaves as Always. A known checksum
// (sha256, or an `@sha256:` digest) is always served from the cache when present.
// Errors are values naming the URL and the reason; nothing here throws to the caller.

import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../../lib/clock.js';
import type { Clock } from '../../../lib/clock.js';
import type { ModuleFetchErrorCode } from './fetch-error.js';
import type { ModuleCache } from './module-cache.js';
import type { OciReference } from './oci-reference.js';
import { ModuleFetchError, checksumMismatch, describeError, isWasmBinary, sha256Hex } from './fetch-error.js';
import { createHttpClient } from './http-client.js';
import { openModuleCache } from './module-cache.js';
import { resolveImage } from './oci-image.js';
import { hostOnly, parseOciReference } from './oci-reference.js';
import { firstFile, gunzipLimited, isGzip, isTar } from './tar-archive.js';

export type PullPolicy = 'IfNotPresent' | 'Always';

export interface ModuleFetchRequest {
  url: string;
  /** Hex sha256 (a `sha256:` prefix is accepted). For OCI it may be the manifest digest (Istio) or the module's. */
  sha256?: string | undefined;
  pullPolicy?: PullPolicy | undefined;
  /** Docker config JSON bytes (`.dockerconfigjson` of the WasmPlugin's imagePullSecret). */
  pullSecret?: Uint8Array | undefined;
  /** The WasmPlugin (namespace/name) asking; with resourceVersion it lets Always skip unchanged resources. */
  resourceName: string;
  resourceVersion?: string | undefined;
}

export type ModuleFetchResult =
  | {
      ok: true;
      /** Shared between callers of the same download: treat as read-only. */
      bytes: Uint8Array;
      /** Hex sha256 of `bytes`. */
      sha256: string;
      source: 'cache' | 'network' | 'file';
      /** Hex sha256 of the image manifest, for OCI modules resolved over the network or by digest. */
      digest?: string;
    }
  | { ok: false; code: ModuleFetchErrorCode; error: string };

export interface ModuleFetcherOptions {
  cacheDir: string;
  clock?: Clock;
  /** Per HTTP attempt (Istio: 15 s). */
  httpTimeoutMs?: number;
  /** Attempts per HTTP request, first one included (Istio: 5). */
  httpAttempts?: number;
  /** First retry backoff, doubled each time up to 5 s (Istio: 500 ms). */
  initialBackoffMs?: number;
  /** Registries (host or host:port) reached without TLS verification or over plain HTTP (`--insecure-registry`). */
  insecureRegistries?: (host: string) => boolean;
  /** Largest module or layer accepted (Istio's MaxWasmBinarySizeBytes, 256 MiB). */
  maxModuleBytes?: number;
  /** Bound on the cache directory's modules; least recently used are evicted past it. Unbounded when unset. */
  maxCacheBytes?: number;
  log?: (msg: string) => void;
}

export interface ModuleFetcher {
  fetch(req: ModuleFetchRequest): Promise<ModuleFetchResult>;
  close(): Promise<void>;
}

type Ok = Extract<ModuleFetchResult, { ok: true }>;
type Target = { kind: 'file'; path: string } | { kind: 'http'; url: URL } | { kind: 'oci'; ref: OciReference };

const DEFAULT_MAX_MODULE_BYTES = 256 * 1024 * 1024;

function classify(raw: string): Target {
  if (raw.startsWith('file://')) {
    try {
      return { kind: 'file', path: fileURLToPath(raw) };
    } catch (err) {
      throw new ModuleFetchError('BAD_URL', `fail to parse Wasm module fetch url: ${raw}, error: ${describeError(err)}`);
    }
  }
  if (isAbsolute(raw) && raw.startsWith('/')) return { kind: 'file', path: raw };
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(raw)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') {
    try {
      return { kind: 'http', url: new URL(raw) };
    } catch (err) {
      throw new ModuleFetchError('BAD_URL', `fail to parse Wasm module fetch url: ${raw}, error: ${describeError(err)}`);
    }
  }
  if (scheme === undefined || scheme === 'oci') {
    const ref = parseOciReference(raw);
    if (typeof ref === 'string') throw new ModuleFetchError('BAD_URL', `could not parse url in image reference ${raw}: ${ref}`);
    return { kind: 'oci', ref };
  }
  throw new ModuleFetchError('BAD_URL', `unsupported Wasm module downloading URL scheme: ${scheme} (${raw})`);
}

function normalizeSha(s: string | undefined): string | undefined {
  if (s === undefined || s === '') return undefined;
  const hex = (s.startsWith('sha256:') ? s.slice(7) : s).toLowerCase();
  if (!/^[a-f0-9]{64}$/.test(hex)) throw new ModuleFetchError('BAD_URL', `sha256 "${s}" is not 64 hex digits`);
  return hex;
}

function notWasm(url: string): ModuleFetchError {
  return new ModuleFetchError('NOT_WASM', `fetched Wasm binary from ${url} is invalid: it does not start with the wasm magic \\0asm`);
}

export function createModuleFetcher(opts: ModuleFetcherOptions): ModuleFetcher {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? ((): void => undefined);
  const maxModuleBytes = opts.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES;
  const insecure = opts.insecureRegistries ?? ((): boolean => false);
  const http = createHttpClient({
    clock,
    timeoutMs: opts.httpTimeoutMs ?? 15_000,
    attempts: opts.httpAttempts ?? 5,
    initialBackoffMs: opts.initialBackoffMs ?? 500,
    maxBackoffMs: 5_000,
  });
  let cacheP: Promise<ModuleCache> | undefined;
  const cache = (): Promise<ModuleCache> =>
    (cacheP ??= openModuleCache(opts.cacheDir, { clock, log, ...(opts.maxCacheBytes !== undefined ? { maxBytes: opts.maxCacheBytes } : {}) }));
  const inflight = new Map<string, Promise<Ok>>();
  /** url -> resourceName -> resourceVersion last seen (Istio's checksumEntry.resourceVersionByResource). */
  const versions = new Map<string, Map<string, string | undefined>>();

  /** Istio's shouldIgnoreResourceVersion, plus: Always with an unchanged resourceVersion uses the cache. */
  function mayUseCachedTag(req: ModuleFetchRequest, key: string, target: Target): boolean {
    const seen = versions.get(key) ?? new Map<string, string | undefined>();
    versions.set(key, seen);
    const unchanged = req.resourceVersion !== undefined && seen.has(req.resourceName) && seen.get(req.resourceName) === req.resourceVersion;
    seen.set(req.resourceName, req.resourceVersion);
    switch (req.pullPolicy) {
      case 'IfNotPresent':
        return true;
      case 'Always':
        return unchanged;
      case undefined:
        return target.kind !== 'oci' || !(target.ref.tagExplicit && target.ref.tag === 'latest') || unchanged;
    }
  }

  async function fromFile(path: string, want: string | undefined, url: string): Promise<Ok> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (err) {
      throw new ModuleFetchError('FILE_READ', `could not read Wasm module ${url}: ${describeError(err)}`);
    }
    const sha = sha256Hex(bytes);
    if (want !== undefined && sha !== want) throw checksumMismatch(url, sha, want);
    if (!isWasmBinary(bytes)) throw notWasm(url);
    return { ok: true, bytes, sha256: sha, source: 'file' };
  }

  /** Istio's unboxIfPossible: a module served gzipped or in a tar is unwrapped (best effort). */
  async function unbox(b: Uint8Array, url: string): Promise<Uint8Array> {
    let cur = b;
    for (let depth = 0; depth < 4 && !isWasmBinary(cur); depth++) {
      if (isGzip(cur)) cur = await gunzipLimited(cur, maxModuleBytes, url);
      else if (isTar(cur)) cur = firstFile(cur) ?? cur;
      else break;
    }
    return cur;
  }

  async function downloadHttp(req: ModuleFetchRequest, url: URL, want: string | undefined, c: ModuleCache): Promise<Ok> {
    const res = await http
      .get(req.url, { insecureTls: insecure(url.host) || insecure(url.hostname), maxBytes: maxModuleBytes })
      .catch((err: unknown) => {
        if (err instanceof ModuleFetchError && err.code === 'UNREACHABLE') {
          throw new ModuleFetchError('UNREACHABLE', `wasm module download from ${req.url} failed: ${err.message}`);
        }
        throw err;
      });
    if (res.status === 404) throw new ModuleFetchError('NOT_FOUND', `wasm module download from ${req.url} failed: status code 404`);
    if (res.status === 401 || res.status === 403) {
      throw new ModuleFetchError('UNAUTHORIZED', `wasm module download from ${req.url} failed: status code ${res.status}`);
    }
    if (res.status !== 200) throw new ModuleFetchError('HTTP_STATUS', `wasm module download from ${req.url} failed: status code ${res.status}`);
    const bytes = await unbox(res.body, req.url);
    const sha = sha256Hex(bytes);
    if (want !== undefined && sha !== want) throw checksumMismatch(req.url, sha, want);
    if (!isWasmBinary(bytes)) throw notWasm(req.url);
    await c.store(bytes, sha, { url: req.url });
    return { ok: true, bytes, sha256: sha, source: 'network' };
  }

  async function downloadOci(req: ModuleFetchRequest, ref: OciReference, want: string | undefined, c: ModuleCache): Promise<Ok> {
    const image = await resolveImage(ref, req.url, {
      http,
      ...(req.pullSecret ? { pullSecret: req.pullSecret } : {}),
      insecure: (h) => insecure(h) || insecure(hostOnly(h)),
      maxModuleBytes,
      log,
    });
    const urlKey = ref.digest === undefined ? ref.canonical : undefined;
    const refs = { ...(urlKey ? { url: urlKey } : {}), digest: image.digest };
    if (want === undefined || want === image.digest) {
      // The tag may still point at an image we hold: no need to download its layers again.
      const known = c.forDigest(image.digest);
      const cached = known ? await c.read(known) : undefined;
      if (known && cached) {
        await c.link(known, refs);
        return { ok: true, bytes: cached, sha256: known, source: 'cache', digest: image.digest };
      }
    }
    const bytes = await image.pull();
    const sha = sha256Hex(bytes);
    if (want !== undefined && want !== image.digest && want !== sha) throw checksumMismatch(req.url, image.digest, want);
    if (!isWasmBinary(bytes)) throw notWasm(req.url);
    log(`wasm: pulled ${req.url} (manifest sha256:${image.digest}, module ${sha}, ${bytes.length} bytes)`);
    await c.store(bytes, sha, refs);
    return { ok: true, bytes, sha256: sha, source: 'network', digest: image.digest };
  }

  async function fetchOk(req: ModuleFetchRequest): Promise<Ok> {
    const target = classify(req.url);
    const want = normalizeSha(req.sha256);
    if (target.kind === 'file') return fromFile(target.path, want, req.url);
    const c = await cache();
    const key = target.kind === 'oci' ? target.ref.canonical : req.url;
    const useTag = mayUseCachedTag(req, key, target);
    const known = want ?? (target.kind === 'oci' ? target.ref.digest?.slice(7) : undefined);
    if (known !== undefined) {
      // A checksum names the content: serve it from the cache whatever the policy (Istio getEntry).
      const sha = c.forDigest(known) ?? known;
      const bytes = await c.read(sha);
      if (bytes) {
        const res: Ok = { ok: true, bytes, sha256: sha, source: 'cache' };
        if (sha !== known) res.digest = known;
        return res;
      }
    } else if (useTag) {
      const sha = c.forUrl(key);
      const bytes = sha ? await c.read(sha) : undefined;
      if (sha && bytes) return { ok: true, bytes, sha256: sha, source: 'cache' };
    }
    const flightKey = `${key}\0${known ?? ''}`;
    let p = inflight.get(flightKey);
    if (!p) {
      p = (target.kind === 'http' ? downloadHttp(req, target.url, want, c) : downloadOci(req, target.ref, known, c)).finally(() =>
        inflight.delete(flightKey),
      );
      inflight.set(flightKey, p);
    }
    return p;
  }

  return {
    async fetch(req) {
      try {
        return await fetchOk(req);
      } catch (err) {
        if (err instanceof ModuleFetchError) return { ok: false, code: err.code, error: err.message };
        return { ok: false, code: 'UNREACHABLE', error: `could not fetch Wasm module ${req.url}: ${describeError(err)}` };
      }
    },
    close: () => http.close(),
  };
}
