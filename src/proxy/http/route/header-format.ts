// Header value formatters for request/response_headers_to_add, parsed once: a value without commands is
// a constant; otherwise a list of literal parts and commands evaluated against a HeaderFormatContext.
// Syntax as Envoy's substitution format parser: `%%` is a literal `%`; a command is
// `%NAME%`, `%NAME(arg)%` or `%NAME(arg):N%` (N truncates); anything else after `%` is an error.
// Supported: DOWNSTREAM_REMOTE_ADDRESS, DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT, UPSTREAM_REMOTE_ADDRESS,
// REQ(name?alternative), PROTOCOL, HOSTNAME. A value that is unavailable formats as '' (header parsers
// omit empty values), never as Envoy's access-log '-'.
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#custom-request-response-headers

import { asciiLower } from './ascii.js';
import type { HeaderFormatContext, HeaderMap } from './types.js';

export interface CompiledFormat {
  /** Set when the value has no commands. */
  readonly constant: string | undefined;
  /** `requestHeaders` is what %REQ(x)% reads. */
  format(ctx: HeaderFormatContext, requestHeaders: HeaderMap | undefined): string;
}

type Part = string | ((ctx: HeaderFormatContext, req: HeaderMap | undefined) => string);

const COMMAND = /^%([A-Z]|[A-Z][A-Z0-9_]*[A-Z0-9])(?:\(([^)]*)\))?(?::([0-9]+))?%/;

function firstValue(headers: HeaderMap | undefined, name: string): string | undefined {
  const v = headers?.[name];
  return v === undefined ? undefined : typeof v === 'string' ? v : v[0];
}

/** A request header as %REQ% reads it: the first value; node keeps :authority as `host`. */
function requestHeader(headers: HeaderMap | undefined, name: string): string | undefined {
  const v = firstValue(headers, name);
  return v === undefined && name === ':authority' ? firstValue(headers, 'host') : v;
}

function remoteAddress(ctx: HeaderFormatContext): string {
  const ip = ctx.downstreamRemoteIp;
  if (ip === undefined) return '';
  if (ctx.downstreamRemotePort === undefined) return ip;
  return ip.includes(':') ? `[${ip}]:${ctx.downstreamRemotePort}` : `${ip}:${ctx.downstreamRemotePort}`;
}

type CommandFn = (ctx: HeaderFormatContext, req: HeaderMap | undefined) => string;

function command(name: string, arg: string | undefined): CommandFn | string {
  const noArg = (fn: CommandFn): CommandFn | string => (arg === undefined ? fn : `%${name}% takes no argument`);
  switch (name) {
    case 'DOWNSTREAM_REMOTE_ADDRESS':
      return noArg(remoteAddress);
    case 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT':
      return noArg((ctx) => ctx.downstreamRemoteIp ?? '');
    case 'UPSTREAM_REMOTE_ADDRESS':
      return noArg((ctx) => ctx.upstreamRemoteAddress ?? '');
    case 'PROTOCOL':
      return noArg((ctx) => ctx.protocol ?? '');
    case 'HOSTNAME':
      return noArg((ctx) => ctx.hostname ?? '');
    case 'REQ': {
      if (arg === undefined || arg === '') return '%REQ% needs a header name: %REQ(name)%';
      const q = arg.indexOf('?');
      const main = asciiLower(q < 0 ? arg : arg.slice(0, q));
      const alt = q < 0 ? undefined : asciiLower(arg.slice(q + 1));
      if (main === '' || alt === '' || alt?.includes('?') === true) return `%REQ(${arg})%: expected name or name?alternative`;
      return (_ctx, req) => requestHeader(req, main) ?? (alt === undefined ? undefined : requestHeader(req, alt)) ?? '';
    }
    default:
      return `unsupported command %${name}%`;
  }
}

/** Parses a header value; a string result is the reason it is invalid. */
export function compileFormat(value: string): CompiledFormat | string {
  if (!value.includes('%')) return constant(value);
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c !== '%') {
      lit += c;
      continue;
    }
    if (value[i + 1] === '%') {
      lit += '%';
      i++;
      continue;
    }
    const m = COMMAND.exec(value.slice(i));
    if (m === null) return `no valid command at position ${i} of ${JSON.stringify(value)} (write %% for a literal %)`;
    const fn = command(m[1] as string, m[2]);
    if (typeof fn === 'string') return fn;
    const max = m[3] === undefined ? undefined : Number(m[3]);
    if (lit !== '') parts.push(lit);
    lit = '';
    parts.push(max === undefined ? fn : (ctx, req) => fn(ctx, req).slice(0, max));
    i += m[0].length - 1;
  }
  if (lit !== '') parts.push(lit);
  if (parts.every((p) => typeof p === 'string')) return constant(parts.join(''));
  return {
    constant: undefined,
    format(ctx, req) {
      let out = '';
      for (const p of parts) out += typeof p === 'string' ? p : p(ctx, req);
      return out;
    },
  };
}

function constant(value: string): CompiledFormat {
  return Object.freeze({ constant: value, format: () => value });
}
