// The head of a proxy_http_call as the SDKs send it (pseudo-headers give method, path and authority) and
// the response headers handed back to the plugin (`:status` first). Shared by the proxy's plugin env and
// `isthmus wasm run`. Envoy's AsyncClient needs :path and :authority: without them the call is refused
// with BAD_ARGUMENT.

import type { HeaderPair } from './pairs.js';

export type CallHead =
  | { readonly ok: true; readonly method: string; readonly path: string; readonly authority: string; readonly headers: Record<string, string[]> }
  | { readonly ok: false; readonly method: string; readonly path: string; readonly authority: string; readonly missing: ':path' | ':authority' };

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

export function callHead(pairs: readonly HeaderPair[]): CallHead {
  let method = 'GET';
  let path = '';
  let authority = '';
  const headers: Record<string, string[]> = {};
  for (const [k, vb] of pairs) {
    const v = latin1(vb);
    if (k === ':method') method = v;
    else if (k === ':path') path = v;
    else if (k === ':authority' || k === 'host') authority = v;
    else if (k.charCodeAt(0) !== 58) (headers[k] ??= []).push(v);
  }
  if (path === '' || authority === '') return { ok: false, method, path, authority, missing: path === '' ? ':path' : ':authority' };
  return { ok: true, method, path, authority, headers };
}

/** A call's response headers as the plugin reads them: `:status`, then each value (latin1 bytes). */
export function responsePairs(status: number | undefined, headers: Record<string, string | string[] | undefined>): HeaderPair[] {
  const out: HeaderPair[] = status !== undefined ? [[':status', Buffer.from(String(status))]] : [];
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    for (const x of typeof v === 'string' ? [v] : v) out.push([k, Buffer.from(x, 'latin1')]);
  }
  return out;
}
