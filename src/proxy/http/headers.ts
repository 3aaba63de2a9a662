// Header names and sets shared by the HTTP layer.

export type HeaderMap = Record<string, string | string[] | undefined>;

/** Headers never forwarded hop to hop (RFC 9110 §7.6.1), nor to HTTP/2 peers. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings', 'proxy-authenticate', 'proxy-authorization']);

/** The first value of a header (joined with ',' when repeated, as Envoy reads multi-value headers). */
export function headerValue(h: HeaderMap, name: string): string | undefined {
  const v = h[name];
  return v === undefined ? undefined : typeof v === 'string' ? v : v.join(',');
}
