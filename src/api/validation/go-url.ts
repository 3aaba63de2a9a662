// A port of the parts of Go's net/url parser (url.Parse and url.ParseRequestURI) whose outcome Istio's
// validation depends on: the scheme (lower-cased), the host, and the errors, in Go's wording
// (`parse "x": invalid port ":a" after host`). Used by the WasmPlugin url and RequestAuthentication jwksUri
// checks. Source: Go's src/net/url/url.go (parse, getScheme, parseAuthority, parseHost, unescape).

export interface GoUrl {
  readonly scheme: string;
  readonly opaque: string;
  readonly host: string;
  readonly path: string;
}

export type GoUrlParse = { readonly ok: true; readonly url: GoUrl } | { readonly ok: false; readonly message: string };

class UrlError extends Error {}

function hasCtlByte(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function getScheme(raw: string): { scheme: string; rest: string } {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) return { scheme: '', rest: raw };
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new UrlError('missing protocol scheme');
      return { scheme: raw.slice(0, i), rest: raw.slice(i + 1) };
    }
    return { scheme: '', rest: raw };
  }
  return { scheme: '', rest: raw };
}

type Mode = 'host' | 'path' | 'userinfo';

/** Go's shouldEscape for the host mode: the characters that are reported as invalid in a host name. */
function invalidHostChar(c: string): boolean {
  if (/[a-zA-Z0-9\-_.~]/.test(c)) return false;
  return !"!$&'()*+,;=:[]<>\"".includes(c);
}

function unescape(s: string, mode: Mode): string {
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '%') {
      const hex = s.slice(i, i + 3);
      if (!/^%[0-9a-fA-F]{2}$/.test(hex)) throw new UrlError(`invalid URL escape ${JSON.stringify(hex)}`);
      i += 2;
    } else if (mode === 'host' && c.charCodeAt(0) < 0x80 && invalidHostChar(c)) {
      throw new UrlError(`invalid character ${JSON.stringify(c)} in host name`);
    }
  }
  return s;
}

function validOptionalPort(port: string): boolean {
  return port === '' || /^:[0-9]*$/.test(port);
}

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']');
    if (i < 0) throw new UrlError("missing ']' in host");
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort)) throw new UrlError(`invalid port ${JSON.stringify(colonPort)} after host`);
  } else {
    const i = host.lastIndexOf(':');
    if (i >= 0) {
      const colonPort = host.slice(i);
      if (!validOptionalPort(colonPort)) throw new UrlError(`invalid port ${JSON.stringify(colonPort)} after host`);
    }
  }
  return unescape(host, 'host');
}

function parseAuthority(authority: string): string {
  const at = authority.lastIndexOf('@');
  if (at < 0) return parseHost(authority);
  const host = parseHost(authority.slice(at + 1));
  const userinfo = authority.slice(0, at);
  if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(userinfo)) throw new UrlError('net/url: invalid userinfo');
  unescape(userinfo, 'userinfo');
  return host;
}

function parse(raw: string, viaRequest: boolean): GoUrl {
  if (hasCtlByte(raw)) throw new UrlError('net/url: invalid control character in URL');
  if (raw === '' && viaRequest) throw new UrlError('empty url');
  if (raw === '*') return { scheme: '', opaque: '', host: '', path: '*' };
  const gs = getScheme(raw);
  const scheme = gs.scheme.toLowerCase();
  let rest = gs.rest;
  if (rest.endsWith('?') && rest.split('?').length === 2) rest = rest.slice(0, -1);
  else {
    const q = rest.indexOf('?');
    if (q >= 0) rest = rest.slice(0, q);
  }
  if (!rest.startsWith('/')) {
    if (scheme !== '') return { scheme, opaque: rest, host: '', path: '' };
    if (viaRequest) throw new UrlError('invalid URI for request');
    const slash = rest.indexOf('/');
    const segment = slash < 0 ? rest : rest.slice(0, slash);
    if (segment.includes(':')) throw new UrlError('first path segment in URL cannot contain colon');
  }
  let host = '';
  if ((scheme !== '' || (!viaRequest && !rest.startsWith('///'))) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const i = authority.indexOf('/');
    if (i >= 0) {
      rest = authority.slice(i);
      authority = authority.slice(0, i);
    }
    host = parseAuthority(authority);
  }
  const path = unescape(rest, 'path');
  return { scheme, opaque: '', host, path };
}

function run(raw: string, viaRequest: boolean): GoUrlParse {
  try {
    return { ok: true, url: parse(raw, viaRequest) };
  } catch (e) {
    if (e instanceof UrlError) return { ok: false, message: `parse ${JSON.stringify(raw)}: ${e.message}` };
    throw e;
  }
}

/** Go's url.Parse: the fragment after `#` is split off first. */
export function goUrlParse(raw: string): GoUrlParse {
  const hash = raw.indexOf('#');
  const u = hash < 0 ? raw : raw.slice(0, hash);
  const r = run(u, false);
  if (!r.ok) return { ok: false, message: r.message.replace(JSON.stringify(u), JSON.stringify(raw)) };
  if (hash >= 0) {
    try {
      unescape(raw.slice(hash + 1), 'path');
    } catch (e) {
      if (e instanceof UrlError) return { ok: false, message: `parse ${JSON.stringify(raw)}: ${e.message}` };
      throw e;
    }
  }
  return r;
}

/** Go's url.ParseRequestURI: an absolute URI or an absolute path; no fragment handling. */
export function goUrlParseRequestUri(raw: string): GoUrlParse {
  return run(raw, true);
}
