// Keys of an upstream cluster's connection pools, and what a host's metadata says about its transport.

import type { Host } from './host.js';

/** The host key of a pool key `<protocol>|<host>[|<sni>][|alpn=...]`. */
export function poolHostKey(k: string): string {
  return k.split('|')[1] ?? '';
}

/** `|alpn=a,b` for an override list (lists are config objects shared by every request: joined once). */
const alpnKeys = new WeakMap<readonly string[], string>();
export function alpnKey(alpn: readonly string[]): string {
  let k = alpnKeys.get(alpn);
  if (k === undefined) {
    k = `|alpn=${alpn.join(',')}`;
    alpnKeys.set(alpn, k);
  }
  return k;
}

/** `example.com:443` -> `example.com`, `[::1]:80` -> `::1`. */
export function hostWithoutPort(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(1, authority.indexOf(']'));
  const i = authority.lastIndexOf(':');
  return i > 0 && authority.indexOf(':') === i ? authority.slice(0, i) : authority;
}

/** A host's `envoy.transport_socket_match` metadata (string values), which picks its transport socket. */
export function socketMatchOf(h: Host): Readonly<Record<string, string>> | undefined {
  const m = h.metadata?.filterMetadata['envoy.transport_socket_match'];
  if (m === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'string') out[k] = v;
  return out;
}
