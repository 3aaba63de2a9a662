// Header names and sets shared by the HTTP layer.

export type HeaderMap = Record<string, string | string[] | undefined>;

/** Headers never forwarded hop to hop (RFC 9110 §7.6.1), nor to HTTP/2 peers. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings', 'proxy-authenticate', 'proxy-authorization']);

/**
 * Whether a lower-case header name is one of HOP_BY_HOP, for the per-header loops of the hot path: most names
 * are ruled out by their length alone, where a Set lookup hashes every new name string the parser made.
 */
export function isHopByHop(name: string): boolean {
  switch (name.length) {
    case 2:
      return name === 'te';
    case 7:
      return name === 'upgrade';
    case 10:
      return name === 'connection' || name === 'keep-alive';
    case 14:
      return name === 'http2-settings';
    case 16:
      return name === 'proxy-connection';
    case 17:
      return name === 'transfer-encoding';
    case 18:
      return name === 'proxy-authenticate';
    case 19:
      return name === 'proxy-authorization';
    default:
      return false;
  }
}

/** The first value of a header (joined with ',' when repeated, as Envoy reads multi-value headers). */
export function headerValue(h: HeaderMap, name: string): string | undefined {
  const v = h[name];
  return v === undefined ? undefined : typeof v === 'string' ? v : v.join(',');
}

/**
 * What the connection manager adds to every response head (Envoy's ConnectionManagerUtility::
 * mutateResponseHeaders): its `via`, the request's x-request-id (always_set_request_id_in_response) and, with
 * APPEND_IF_ABSENT, a `server` header where the response has none.
 */
export interface ResponseHeaderPolicy {
  readonly via: string;
  readonly alwaysSetRequestId: boolean;
  /** The `server` header for a response without one (server_header_transformation APPEND_IF_ABSENT); '' none. */
  readonly serverIfAbsent: string;
}

/** Envoy's Utility::appendVia: `via` joined to what the header already says, with ", ". */
export function appendVia(existing: string | string[] | undefined, via: string): string {
  if (existing === undefined || existing === '') return via;
  return `${Array.isArray(existing) ? existing.join(', ') : existing}, ${via}`;
}
