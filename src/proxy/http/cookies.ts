// Cookies as Envoy reads and writes them (source/common/http/utility.cc): a request cookie's value
// (parseCookieValue) and a Set-Cookie value (makeSetCookieValue). Used by the cookie hash policy and the
// stateful session filter.

import { headerValue, type HeaderMap } from './headers.js';

/** A request cookie's value as Envoy's parseCookieValue reads it: the first match, without surrounding double quotes. */
export function cookieValue(h: HeaderMap, name: string): string | undefined {
  const c = headerValue(h, 'cookie');
  if (c === undefined) return undefined;
  for (const part of c.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
    }
  }
  return undefined;
}

export interface CookieAttribute {
  readonly name: string;
  readonly value: string;
}

/** `name="value"; Max-Age=ttl; Path=path; attributes; HttpOnly` (Http::Utility::makeSetCookieValue); no Max-Age for 0, no Path for ''. */
export function setCookieValue(name: string, value: string, path: string, maxAgeSeconds: number, httpOnly: boolean, attributes: readonly CookieAttribute[] = []): string {
  let header = `${name}="${value}"`;
  if (maxAgeSeconds !== 0) header += `; Max-Age=${maxAgeSeconds}`;
  if (path !== '') header += `; Path=${path}`;
  for (const a of attributes) header += a.value === '' ? `; ${a.name}` : `; ${a.name}=${a.value}`;
  return httpOnly ? `${header}; HttpOnly` : header;
}
