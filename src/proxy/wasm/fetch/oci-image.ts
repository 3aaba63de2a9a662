// Pulling a wasm module out of an OCI registry through the Docker Registry HTTP API v2 / OCI distribution
// spec: resolve the manifest (following an index to linux/amd64 or its first entry), authenticate when
// challenged (Bearer token flow with realm/service/scope, or Basic, credentials from the pull secret),
// then fetch and verify the layer that holds the module. The two image formats Istio's agent reads
// (pkg/wasm/imagefetcher.go): the OCI wasm artifact, whose wasm layer IS the module, and the Docker/OCI
// "compat" image whose tar layer contains `plugin.wasm`.
// Resolution and download are split so the caller can answer from its cache once the digest is known.

import type { HttpClient, HttpResponse } from './http-client.js';
import type { OciReference } from './oci-reference.js';
import type { RegistryCredentials } from './registry-auth.js';
import { ModuleFetchError, sha256Hex } from './fetch-error.js';
import { isLoopbackHost, hostOnly } from './oci-reference.js';
import { basicAuthorization, checkRealm, credentialsFor, parseChallenges } from './registry-auth.js';
import { findFile, gunzipLimited, isGzip } from './tar-archive.js';

export const MEDIA_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MEDIA_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** The layer of the solo-io / Istio OCI wasm artifact: the raw module. */
export const MEDIA_WASM_LAYER = 'application/vnd.module.wasm.content.layer.v1+wasm';
const WASM_LAYER_TYPES = new Set([MEDIA_WASM_LAYER, 'application/wasm', 'application/vnd.wasm.content.layer.v1+wasm']);
const TAR_LAYER_TYPES = new Set([
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar',
]);
const ACCEPT = [MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST, MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST].join(', ');
const MANIFEST_LIMIT = 4 * 1024 * 1024;

export interface OciPullContext {
  http: HttpClient;
  pullSecret?: Uint8Array;
  /** Hosts (host or host:port) spoken to without TLS verification, falling back to plain HTTP. */
  insecure: (host: string) => boolean;
  maxModuleBytes: number;
  log: (msg: string) => void;
}

export interface ResolvedImage {
  /** Hex sha256 of the image manifest (Istio's checksum for OCI modules). */
  digest: string;
  /** Downloads the module's bytes; blob digests are verified. */
  pull(): Promise<Uint8Array>;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string };
}

function descriptors(v: unknown): Descriptor[] {
  if (!Array.isArray(v)) return [];
  const out: Descriptor[] = [];
  for (const d of v as unknown[]) {
    if (d === null || typeof d !== 'object') continue;
    const o = d as Record<string, unknown>;
    if (typeof o['digest'] !== 'string') continue;
    const desc: Descriptor = {
      mediaType: typeof o['mediaType'] === 'string' ? o['mediaType'] : '',
      digest: o['digest'],
      size: typeof o['size'] === 'number' ? o['size'] : -1,
    };
    if (o['platform'] !== null && typeof o['platform'] === 'object') desc.platform = o['platform'] as Descriptor['platform'] & object;
    out.push(desc);
  }
  return out;
}

function registryMessage(res: HttpResponse): string {
  try {
    const j = JSON.parse(new TextDecoder().decode(res.body)) as { errors?: { code?: string; message?: string }[] };
    const e = j.errors?.[0];
    if (e) return `${e.code ?? ''}${e.message ? `: ${e.message}` : ''}`;
  } catch {
    // not a registry error document
  }
  return '';
}

/** One pull's conversation with one registry: base URL, scheme fallback and the authorization won. */
class RegistrySession {
  private base: string;
  private readonly insecureTls: boolean;
  private fallbackToHttp: boolean;
  private authorization: string | undefined;
  private creds: RegistryCredentials | undefined | null = null;

  constructor(
    private readonly ref: OciReference,
    private readonly url: string,
    private readonly ctx: OciPullContext,
  ) {
    const host = ref.apiHost;
    const insecure = ctx.insecure(host) || ctx.insecure(hostOnly(host));
    this.insecureTls = insecure;
    this.fallbackToHttp = insecure && !isLoopbackHost(host);
    this.base = `${isLoopbackHost(host) ? 'http' : 'https'}://${host}`;
  }

  private credentials(): RegistryCredentials | undefined {
    if (this.creds === null) {
      this.creds = this.ctx.pullSecret ? credentialsFor(this.ctx.pullSecret, this.ref.registry) : undefined;
    }
    return this.creds;
  }

  private async send(path: string, headers: Record<string, string>, maxBytes: number): Promise<HttpResponse> {
    const h = { ...headers };
    if (this.authorization) h['authorization'] = this.authorization;
    try {
      return await this.ctx.http.get(this.base + path, { headers: h, insecureTls: this.insecureTls, maxBytes });
    } catch (err) {
      if (this.fallbackToHttp && err instanceof ModuleFetchError && err.code === 'UNREACHABLE') {
        // Istio (after helm) retries an insecure registry over plain HTTP when TLS fails.
        this.fallbackToHttp = false;
        this.base = `http://${this.ref.apiHost}`;
        this.ctx.log(`wasm: registry ${this.ref.apiHost} did not speak TLS, retrying over plain HTTP`);
        return this.ctx.http.get(this.base + path, { headers: h, insecureTls: false, maxBytes });
      }
      if (err instanceof ModuleFetchError && err.code === 'UNREACHABLE') {
        throw new ModuleFetchError('UNREACHABLE', `could not fetch Wasm OCI image ${this.url}: registry ${this.ref.apiHost} unreachable: ${err.message}`);
      }
      throw err;
    }
  }

  async get(path: string, headers: Record<string, string>, maxBytes: number): Promise<HttpResponse> {
    let res = await this.send(path, headers, maxBytes);
    if (res.status === 401 && this.authorization === undefined) {
      await this.authenticate(res);
      res = await this.send(path, headers, maxBytes);
    }
    if (res.status === 401 || res.status === 403) {
      const why = registryMessage(res);
      throw new ModuleFetchError(
        'UNAUTHORIZED',
        `could not fetch Wasm OCI image ${this.url}: registry ${this.ref.registry} refused access (${res.status}${why ? ` ${why}` : ''})` +
          (this.credentials() ? '' : '; no pull secret credentials for this registry'),
      );
    }
    return res;
  }

  private async authenticate(res: HttpResponse): Promise<void> {
    const challenges = parseChallenges(res.headers.get('www-authenticate') ?? '');
    const creds = this.credentials();
    const noCreds = (): ModuleFetchError =>
      new ModuleFetchError(
        'UNAUTHORIZED',
        `could not fetch Wasm OCI image ${this.url}: registry ${this.ref.registry} requires authentication and no pull secret has credentials for it`,
      );
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      if (creds?.registryToken) {
        this.authorization = `Bearer ${creds.registryToken}`;
        return;
      }
      const realm = checkRealm(bearer.params['realm'] ?? '', this.ref.apiHost);
      if (bearer.params['service']) realm.searchParams.set('service', bearer.params['service']);
      realm.searchParams.set('scope', bearer.params['scope'] ?? `repository:${this.ref.repository}:pull`);
      const headers: Record<string, string> = {};
      const basic = creds ? basicAuthorization(creds) : undefined;
      if (basic) headers['authorization'] = basic;
      const tok = await this.ctx.http.get(realm.toString(), { headers, insecureTls: this.insecureTls, maxBytes: MANIFEST_LIMIT });
      if (tok.status === 401 || tok.status === 403) {
        if (!basic) throw noCreds();
        throw new ModuleFetchError('UNAUTHORIZED', `could not fetch Wasm OCI image ${this.url}: token service ${realm.host} refused the pull secret credentials (${tok.status})`);
      }
      if (tok.status !== 200) {
        throw new ModuleFetchError('UNAUTHORIZED', `could not fetch Wasm OCI image ${this.url}: token service ${realm.host} answered ${tok.status}`);
      }
      let token: unknown;
      try {
        const j = JSON.parse(new TextDecoder().decode(tok.body)) as Record<string, unknown>;
        token = j['token'] ?? j['access_token'];
      } catch {
        token = undefined;
      }
      if (typeof token !== 'string' || token === '') {
        throw new ModuleFetchError('UNAUTHORIZED', `could not fetch Wasm OCI image ${this.url}: token service ${realm.host} gave no token`);
      }
      this.authorization = `Bearer ${token}`;
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const basic = creds ? basicAuthorization(creds) : undefined;
      if (!basic) throw noCreds();
      this.authorization = basic;
      return;
    }
    throw noCreds();
  }
}

async function fetchManifest(
  s: RegistrySession,
  ref: OciReference,
  reference: string,
  url: string,
): Promise<{ digest: string; doc: Record<string, unknown>; mediaType: string }> {
  const res = await s.get(`/v2/${ref.repository}/manifests/${reference}`, { accept: ACCEPT }, MANIFEST_LIMIT);
  if (res.status === 404) {
    throw new ModuleFetchError('NOT_FOUND', `could not fetch Wasm OCI image ${url}: manifest ${ref.repository}:${reference} not found in registry ${ref.registry} (404)`);
  }
  if (res.status !== 200) {
    const why = registryMessage(res);
    throw new ModuleFetchError('HTTP_STATUS', `could not fetch Wasm OCI image ${url}: manifest request answered ${res.status}${why ? ` ${why}` : ''}`);
  }
  const digest = sha256Hex(res.body);
  if (reference.startsWith('sha256:') && reference.slice(7) !== digest) {
    throw new ModuleFetchError('CHECKSUM_MISMATCH', `manifest of ${url} has digest sha256:${digest}, which does not match: ${reference}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(res.body));
  } catch {
    throw new ModuleFetchError('BAD_IMAGE', `could not fetch Wasm OCI image ${url}: manifest is not JSON`);
  }
  if (doc === null || typeof doc !== 'object') throw new ModuleFetchError('BAD_IMAGE', `could not fetch Wasm OCI image ${url}: manifest is not an object`);
  const d = doc as Record<string, unknown>;
  const mediaType = typeof d['mediaType'] === 'string' ? d['mediaType'] : (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  return { digest, doc: d, mediaType };
}

async function fetchBlob(s: RegistrySession, ref: OciReference, layer: Descriptor, url: string, maxBytes: number): Promise<Uint8Array> {
  if (layer.size > maxBytes) {
    throw new ModuleFetchError('TOO_LARGE', `layer ${layer.digest} of ${url} is ${layer.size} bytes, more than the limit of ${maxBytes}`);
  }
  const res = await s.get(`/v2/${ref.repository}/blobs/${layer.digest}`, {}, maxBytes);
  if (res.status === 404) {
    throw new ModuleFetchError('NOT_FOUND', `could not fetch Wasm binary of ${url}: blob ${layer.digest} not found (404)`);
  }
  if (res.status !== 200) {
    throw new ModuleFetchError('HTTP_STATUS', `could not fetch Wasm binary of ${url}: blob ${layer.digest} answered ${res.status}`);
  }
  if (layer.digest.startsWith('sha256:')) {
    const got = sha256Hex(res.body);
    if (got !== layer.digest.slice(7)) {
      throw new ModuleFetchError('CHECKSUM_MISMATCH', `blob ${layer.digest} of ${url} has checksum sha256:${got}, which does not match the manifest`);
    }
  }
  return res.body;
}

/** Picks the index entry for linux/amd64, else the first one (what a plugin image index usually has). */
function pickFromIndex(manifests: Descriptor[]): Descriptor | undefined {
  return manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64') ?? manifests[0];
}

/** Resolves `ref` to an image manifest; the module itself is downloaded by the answer's pull(). */
export async function resolveImage(ref: OciReference, url: string, ctx: OciPullContext): Promise<ResolvedImage> {
  const session = new RegistrySession(ref, url, ctx);
  let m = await fetchManifest(session, ref, ref.digest ?? ref.tag, url);
  if (m.mediaType === MEDIA_OCI_INDEX || m.mediaType === MEDIA_DOCKER_LIST || (Array.isArray(m.doc['manifests']) && !Array.isArray(m.doc['layers']))) {
    const chosen = pickFromIndex(descriptors(m.doc['manifests']));
    if (!chosen) throw new ModuleFetchError('BAD_IMAGE', `could not fetch Wasm OCI image ${url}: the image index lists no manifests`);
    m = await fetchManifest(session, ref, chosen.digest, url);
  }
  const layers = descriptors(m.doc['layers']);
  const manifest = m;
  return {
    digest: manifest.digest,
    async pull() {
      if (layers.length === 0) throw new ModuleFetchError('BAD_IMAGE', `could not fetch Wasm OCI image ${url}: the manifest has no layers`);
      const wasmLayer = layers.find((l) => WASM_LAYER_TYPES.has(l.mediaType));
      if (wasmLayer) return fetchBlob(session, ref, wasmLayer, url, ctx.maxModuleBytes);
      // Compat images: plugin.wasm in a tar layer; Istio looks at the last layer, we search last to first.
      const tarLayers = layers.filter((l) => TAR_LAYER_TYPES.has(l.mediaType)).reverse();
      if (tarLayers.length === 0) {
        throw new ModuleFetchError(
          'BAD_IMAGE',
          `could not fetch Wasm OCI image ${url}: no layer of type ${MEDIA_WASM_LAYER} and no tar layer (layers: ${layers.map((l) => l.mediaType).join(', ')})`,
        );
      }
      for (const layer of tarLayers) {
        const blob = await fetchBlob(session, ref, layer, url, ctx.maxModuleBytes);
        const tar = isGzip(blob) ? await gunzipLimited(blob, ctx.maxModuleBytes, `layer ${layer.digest} of ${url}`) : blob;
        const found = findFile(tar, 'plugin.wasm');
        if (found) return found;
      }
      throw new ModuleFetchError('NO_PLUGIN_WASM', `could not fetch Wasm binary of ${url}: plugin.wasm not found in the image's layers`);
    },
  };
}
