// The control plane's JWKS cache (istiod's JwksResolver, pilot/pkg/model/jwks_resolver.go): the public
// keys RequestAuthentications name by `jwksUri` (or by issuer, through OpenID discovery) are fetched here
// and handed to the snapshot, so translation stays pure and proxies get the keys inline (istiod's default,
// PILOT_JWT_ENABLE_REMOTE_JWKS=false). A source is a URL: the JWKS itself, or a URL ending in
// `/.well-known/openid-configuration`, whose `jwks_uri` is fetched next (see translate's jwks-source.ts).
// resolve() never waits: it answers from the cache and starts fetches for new sources; `onChange` fires
// when a fetch brings a different document, so the caller rebuilds its snapshot. A failed first fetch is
// recorded as '' (translation then uses Istio's fail-closed key set) and logged once until the source
// recovers; a failed refresh keeps the last good document, as istiod does. Responses that are not a JWKS
// (no `keys` array) are failures (validateJWKSFormat). Sources unused for a week are forgotten
// (JwtPubKeyEvictionDuration). Refresh runs every 20 minutes (PILOT_JWT_PUB_KEY_REFRESH_INTERVAL), every
// minute while something fails (JwtPubKeyRefreshIntervalOnFailure). Time is the injected Clock.

import type { Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/logger.js';

export const OPENID_DISCOVERY_SUFFIX = '/.well-known/openid-configuration';
export const DEFAULT_JWKS_REFRESH_MS = 20 * 60_000;
export const DEFAULT_JWKS_FAILURE_REFRESH_MS = 60_000;
export const DEFAULT_JWKS_TIMEOUT_MS = 5_000;
export const DEFAULT_JWKS_EVICTION_MS = 7 * 24 * 3_600_000;

export interface JwksResolverOptions {
  /** undici's global fetch by default. */
  readonly fetch?: typeof fetch;
  readonly refreshMs?: number;
  readonly failureRefreshMs?: number;
  readonly timeoutMs?: number;
  readonly evictionMs?: number;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Called when a fetch completes with a document different from the cached one. */
  readonly onChange: () => void;
}

interface Entry {
  /** undefined until the first fetch completes; '' when it failed. */
  doc: string | undefined;
  inFlight: boolean;
  lastUsedMs: number;
  failing: boolean;
}

function isJwks(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray((v as Record<string, unknown>)['keys']);
  } catch {
    return false;
  }
}

export class JwksResolver {
  readonly #fetch: typeof fetch;
  readonly #refreshMs: number;
  readonly #failureRefreshMs: number;
  readonly #timeoutMs: number;
  readonly #evictionMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #onChange: () => void;
  readonly #entries = new Map<string, Entry>();
  readonly #aborts = new Set<AbortController>();
  #timer: { cancel(): void } | undefined;
  #closed = false;

  constructor(o: JwksResolverOptions) {
    this.#fetch = o.fetch ?? globalThis.fetch;
    this.#refreshMs = o.refreshMs ?? DEFAULT_JWKS_REFRESH_MS;
    this.#failureRefreshMs = o.failureRefreshMs ?? DEFAULT_JWKS_FAILURE_REFRESH_MS;
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS;
    this.#evictionMs = o.evictionMs ?? DEFAULT_JWKS_EVICTION_MS;
    this.#clock = o.clock;
    this.#logger = o.logger ?? silentLogger;
    this.#onChange = o.onChange;
  }

  /** The cached documents of these sources ('' = fetch failed); sources seen for the first time start fetching. */
  resolve(uris: Iterable<string>): ReadonlyMap<string, string> {
    const now = this.#clock.now();
    const out = new Map<string, string>();
    for (const uri of uris) {
      let e = this.#entries.get(uri);
      if (e === undefined) {
        e = { doc: undefined, inFlight: false, lastUsedMs: now, failing: false };
        this.#entries.set(uri, e);
        if (!this.#closed) void this.#refreshOne(uri, e);
      }
      e.lastUsedMs = now;
      if (e.doc !== undefined) out.set(uri, e.doc);
    }
    if (this.#timer === undefined && !this.#closed && this.#entries.size > 0) this.#schedule(this.#refreshMs);
    return out;
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    for (const a of this.#aborts) a.abort();
    this.#aborts.clear();
  }

  #schedule(ms: number): void {
    this.#timer?.cancel();
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#refreshAll();
    }, ms);
  }

  async #refreshAll(): Promise<void> {
    if (this.#closed) return;
    const now = this.#clock.now();
    for (const [uri, e] of this.#entries) if (now - e.lastUsedMs > this.#evictionMs) this.#entries.delete(uri);
    await Promise.all([...this.#entries].map(([uri, e]) => this.#refreshOne(uri, e)));
    if (this.#closed || this.#entries.size === 0) return;
    const failing = [...this.#entries.values()].some((e) => e.failing);
    this.#schedule(failing ? Math.min(this.#failureRefreshMs, this.#refreshMs) : this.#refreshMs);
  }

  async #refreshOne(uri: string, e: Entry): Promise<void> {
    if (e.inFlight) return;
    e.inFlight = true;
    let doc: string;
    try {
      doc = await this.#fetchJwks(uri);
      if (e.failing) this.#logger.info('JWKS fetch recovered', { uri });
      e.failing = false;
    } catch (err) {
      if (!e.failing) this.#logger.warn('JWKS fetch failed; requests with tokens for this source will be rejected', { uri, error: err instanceof Error ? err.message : String(err) });
      e.failing = true;
      doc = e.doc !== undefined && e.doc !== '' ? e.doc : '';
    } finally {
      e.inFlight = false;
    }
    if (this.#closed || this.#entries.get(uri) !== e) return;
    const before = e.doc;
    e.doc = doc;
    // undefined and '' translate alike (the fail-closed key set), so only a real difference is a change.
    if (doc === before || (before === undefined && doc === '')) return;
    try {
      this.#onChange();
    } catch (err) {
      this.#logger.error('JWKS change listener failed', { uri, error: err instanceof Error ? err.message : String(err) });
    }
  }

  async #fetchJwks(uri: string): Promise<string> {
    let jwksUri = uri;
    if (uri.endsWith(OPENID_DISCOVERY_SUFFIX)) {
      let cfg: unknown;
      try {
        cfg = JSON.parse(await this.#get(uri));
      } catch (err) {
        throw new Error(`openID discovery at ${uri}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const j = typeof cfg === 'object' && cfg !== null ? (cfg as Record<string, unknown>)['jwks_uri'] : undefined;
      if (typeof j !== 'string' || j === '') throw new Error(`invalid jwks_uri ${JSON.stringify(j)} in openID discovery configuration`);
      jwksUri = j;
    }
    const body = await this.#get(jwksUri);
    if (!isJwks(body)) throw new Error(`content fetched from ${jwksUri} is not a valid JWKS`);
    return body;
  }

  async #get(url: string): Promise<string> {
    const ac = new AbortController();
    this.#aborts.add(ac);
    const t = this.#clock.setTimeout(() => ac.abort(new Error(`timeout after ${this.#timeoutMs} ms`)), this.#timeoutMs);
    try {
      const res = await this.#fetch(url, { signal: ac.signal, redirect: 'follow' });
      const text = await res.text();
      if (res.status < 200 || res.status >= 300) throw new Error(`status code ${res.status}: ${JSON.stringify(text.slice(0, 100))}`);
      return text;
    } finally {
      t.cancel();
      this.#aborts.delete(ac);
    }
  }
}
