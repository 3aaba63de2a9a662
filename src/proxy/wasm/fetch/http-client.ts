// One GET as module fetching needs it: a per-attempt timeout, bounded retries with exponential backoff on
// 5xx and connection errors, a cap on the body size, and TLS verification off only for hosts the operator
// named insecure. It owns no policy about what a status means; callers map statuses to errors.
// Retry rules follow Istio's agent (pkg/wasm/httpfetcher.go): 5xx except 501, 505 and 511 are retried,
// as are connection failures; other statuses are answered at once.

import { Agent, fetch } from 'undici';
import type { Clock } from '../../../lib/clock.js';
import { ModuleFetchError, describeError } from './fetch-error.js';

export interface HttpClientOptions {
  clock: Clock;
  /** Per attempt, headers and body included. */
  timeoutMs: number;
  /** Total attempts (first try included), at least 1. */
  attempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface HttpGetOptions {
  headers?: Record<string, string>;
  /** Skip TLS certificate verification (Istio's insecure registries). */
  insecureTls?: boolean;
  /** Bodies of successful answers larger than this fail with TOO_LARGE. */
  maxBytes: number;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
  /** The URL that answered, after redirects. */
  url: string;
}

export interface HttpClient {
  /** Resolves with the last answer (any status); throws ModuleFetchError UNREACHABLE when none came. */
  get(url: string, opts: HttpGetOptions): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** Error bodies are kept only for messages; no need to hold more than this. */
const ERROR_BODY_LIMIT = 64 * 1024;

export function isRetryableStatus(status: number): boolean {
  return status >= 500 && status !== 501 && status !== 505 && status !== 511;
}

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const secure = new Agent();
  const insecure = new Agent({ connect: { rejectUnauthorized: false } });
  const attempts = Math.max(1, opts.attempts);

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => void opts.clock.setTimeout(resolve, ms));

  async function once(url: string, o: HttpGetOptions): Promise<HttpResponse> {
    const ac = new AbortController();
    let timedOut = false;
    const timer = opts.clock.setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, opts.timeoutMs);
    try {
      const res = await fetch(url, {
        method: 'GET',
        headers: o.headers ?? {},
        signal: ac.signal,
        redirect: 'follow',
        dispatcher: o.insecureTls ? insecure : secure,
      });
      const ok = res.status >= 200 && res.status < 300;
      const limit = ok ? o.maxBytes : ERROR_BODY_LIMIT;
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (ok && Number.isFinite(declared) && declared > limit) {
        await res.body?.cancel().catch(() => undefined);
        throw new ModuleFetchError('TOO_LARGE', `${url} is ${declared} bytes, more than the limit of ${limit}`);
      }
      const body = await readLimited(res.body, limit, ok, url);
      return { status: res.status, headers: res.headers, body, url: res.url || url };
    } catch (err) {
      if (err instanceof ModuleFetchError) throw err;
      const reason = timedOut ? `timed out after ${opts.timeoutMs} ms` : describeError(err);
      throw new ModuleFetchError('UNREACHABLE', reason);
    } finally {
      timer.cancel();
    }
  }

  return {
    async get(url, o) {
      let backoff = opts.initialBackoffMs;
      let lastError: ModuleFetchError | undefined;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          const res = await once(url, o);
          if (!isRetryableStatus(res.status) || attempt === attempts) return res;
        } catch (err) {
          if (!(err instanceof ModuleFetchError) || err.code !== 'UNREACHABLE') throw err;
          lastError = err;
        }
        if (attempt < attempts) {
          await sleep(backoff);
          backoff = Math.min(backoff * 2, opts.maxBackoffMs);
        }
      }
      throw new ModuleFetchError(
        'UNREACHABLE',
        `${url} unreachable after ${attempts} attempts: ${lastError?.message ?? 'no answer'}`,
      );
    },
    async close() {
      await Promise.all([secure.close(), insecure.close()]);
    },
  };
}

async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  strict: boolean,
  url: string,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.length > limit) {
      await reader.cancel().catch(() => undefined);
      if (strict) throw new ModuleFetchError('TOO_LARGE', `${url} is more than the limit of ${limit} bytes`);
      chunks.push(value.subarray(0, limit - total));
      total = limit;
      break;
    }
    chunks.push(value);
    total += value.length;
  }
  return concat(chunks, total);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
