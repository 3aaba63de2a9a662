// The dashboard's access control, as Kiali's token strategy: one random token is made when the control
// plane starts (printed by `isthmus up` and `isthmus dashboard`); POST /api/login with it opens a session
// held in an HttpOnly, SameSite=Strict cookie. Sessions live in memory (a restart logs everyone out) and
// expire after `sessionTtlMs` (Kiali's default token expiration: 24 h). Tokens and session ids are
// compared in constant time. This module owns no HTTP routing; the server asks it yes/no questions.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { SESSION_COOKIE } from '../shared/api-types.js';

export interface SessionAuthOptions {
  readonly clock: Clock;
  /** The login token; default 32 random bytes, base64url. */
  readonly token?: string;
  /** Default 24 h. */
  readonly sessionTtlMs?: number;
  /** Sessions kept at most (the oldest goes first); default 1000. */
  readonly maxSessions?: number;
}

const DAY_MS = 24 * 3600_000;

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of cookie `name` in a Cookie header, if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class SessionAuth {
  readonly token: string;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #max: number;
  /** Session id -> expiry (ms), in creation order. */
  readonly #sessions = new Map<string, number>();

  constructor(o: SessionAuthOptions) {
    this.token = o.token ?? newToken();
    this.#clock = o.clock;
    this.#ttlMs = o.sessionTtlMs ?? DAY_MS;
    this.#max = o.maxSessions ?? 1000;
  }

  /** A new session id when `token` is the login token, else undefined. */
  login(token: string): string | undefined {
    if (!sameSecret(token, this.token)) return undefined;
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(id, this.#clock.now() + this.#ttlMs);
    while (this.#sessions.size > this.#max) this.#sessions.delete(this.#sessions.keys().next().value as string);
    return id;
  }

  /** Whether the request's Cookie header carries a live session. */
  authenticated(cookieHeader: string | undefined): boolean {
    const id = cookieValue(cookieHeader, SESSION_COOKIE);
    if (id === undefined || id === '') return false;
    // Map lookup by the presented id: a hash lookup, so its timing says nothing about the ids held.
    const expires = this.#sessions.get(id);
    if (expires === undefined) return false;
    if (expires <= this.#clock.now()) {
      this.#sessions.delete(id);
      return false;
    }
    return true;
  }

  logout(cookieHeader: string | undefined): void {
    const id = cookieValue(cookieHeader, SESSION_COOKIE);
    if (id !== undefined) this.#sessions.delete(id);
  }

  /** Set-Cookie for a session (HttpOnly, SameSite=Strict, the whole site). */
  sessionCookie(id: string): string {
    return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.#ttlMs / 1000)}`;
  }

  /** Set-Cookie that removes the session cookie. */
  clearedCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}
