// Registry credentials and challenges: reading a pull secret (the `.dockerconfigjson` of a
// kubernetes.io/dockerconfigjson Secret, as Istio's WasmPlugin imagePullSecret carries it), parsing
// WWW-Authenticate challenges, and refusing token realms that would turn the proxy into an SSRF relay.
// Istio (pkg/wasm/imagefetcher.go validateRealmURL) blocks non-http schemes, cloud metadata names and
// private/loopback/link-local realms; we do the same, except that a registry which itself lives on a
// loopback or private address may name a realm on one (a local registry with its token server beside it).

import { isIP } from 'node:net';
import { ModuleFetchError } from './fetch-error.js';
import { hostOnly } from './oci-reference.js';

export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** A bearer token for the registry itself (docker config `registrytoken`). */
  registryToken?: string;
}

export interface AuthChallenge {
  /** Lower-cased scheme: `basic`, `bearer`. */
  scheme: string;
  params: Record<string, string>;
}

const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

function registryKey(raw: string): string {
  let k = raw.trim().toLowerCase().replace(/^https?:\/\//, '');
  const slash = k.indexOf('/');
  if (slash >= 0) k = k.slice(0, slash);
  return HUB_ALIASES.has(k) ? 'docker.io' : k;
}

/**
 * The credentials a docker config JSON holds for `registry`, or undefined when it names none.
 * Accepts `{auths: {...}}` and the legacy `.dockercfg` shape (the map at top level); per entry `auth`
 * (base64 `user:password`) or `username`/`password`, and `registrytoken`.
 */
export function credentialsFor(pullSecret: Uint8Array, registry: string): RegistryCredentials | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(pullSecret));
  } catch (err) {
    throw new ModuleFetchError('UNAUTHORIZED', `pull secret is not docker config JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object') return undefined;
  const root = doc as Record<string, unknown>;
  const auths = (typeof root['auths'] === 'object' && root['auths'] !== null ? root['auths'] : root) as Record<
    string,
    unknown
  >;
  const want = registryKey(registry);
  for (const [key, entry] of Object.entries(auths)) {
    if (registryKey(key) !== want || entry === null || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    const creds: RegistryCredentials = {};
    if (typeof e['auth'] === 'string' && e['auth'] !== '') {
      const decoded = Buffer.from(e['auth'], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new ModuleFetchError('UNAUTHORIZED', `pull secret entry for ${key}: auth is not base64 user:password`);
      creds.username = decoded.slice(0, colon);
      creds.password = decoded.slice(colon + 1);
    }
    if (typeof e['username'] === 'string' && e['username'] !== '') creds.username = e['username'];
    if (typeof e['password'] === 'string' && e['password'] !== '') creds.password = e['password'];
    if (typeof e['registrytoken'] === 'string' && e['registrytoken'] !== '') creds.registryToken = e['registrytoken'];
    return creds;
  }
  return undefined;
}

export function basicAuthorization(c: RegistryCredentials): string | undefined {
  if (c.username === undefined) return undefined;
  return `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
}

/** Parses `WWW-Authenticate` (RFC 7235): one or more challenges, each a scheme and auth-params. */
export function parseChallenges(header: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let i = 0;
  let current: AuthChallenge | undefined;
  const n = header.length;
  const skip = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === ',' || header[i] === '\t')) i++;
  };
  while (i < n) {
    skip();
    const start = i;
    while (i < n && !' ,=\t'.includes(header[i] ?? '')) i++;
    const token = header.slice(start, i);
    if (token === '') break;
    if (header[i] === '=') {
      i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const vs = i;
        while (i < n && header[i] !== ',' && header[i] !== ' ') i++;
        value = header.slice(vs, i);
      }
      if (current) current.params[token.toLowerCase()] = value;
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

function isPrivateOrLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const v = isIP(host);
  if (v === 4) {
    const [a = 0, b = 0] = host.split('.').map(Number);
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a === 0;
  }
  if (v === 6) {
    const h = host.toLowerCase();
    return h === '::1' || h === '::' || h.startsWith('fc') || h.startsWith('fd');
  }
  return false;
}

function isLinkLocal(host: string): boolean {
  const v = isIP(host);
  if (v === 4) return host.startsWith('169.254.');
  if (v === 6) return /^fe[89ab]/i.test(host);
  return false;
}

/** Throws UNAUTHORIZED when a bearer realm must not be contacted on behalf of `registryHost`. */
export function checkRealm(realm: string, registryHost: string): URL {
  let u: URL;
  try {
    u = new URL(realm);
  } catch {
    throw new ModuleFetchError('UNAUTHORIZED', `registry ${registryHost} named an invalid token realm "${realm}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ModuleFetchError('UNAUTHORIZED', `rejected unsafe bearer realm ${realm}: scheme ${u.protocol} not allowed`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === 'metadata.google.internal' || isLinkLocal(host)) {
    throw new ModuleFetchError('UNAUTHORIZED', `rejected unsafe bearer realm ${realm}: targets a metadata or link-local address`);
  }
  if (isPrivateOrLoopback(host) && !isPrivateOrLoopback(hostOnly(registryHost))) {
    throw new ModuleFetchError('UNAUTHORIZED', `rejected unsafe bearer realm ${realm}: targets a private or loopback address`);
  }
  return u;
}
