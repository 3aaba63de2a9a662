// Reads what Envoy's tls_inspector reads from the first bytes of a connection: whether it is TLS, and the
// ClientHello's SNI (server_name extension) and ALPN protocols, without consuming the bytes. Pure: works on
// the buffered prefix; `incomplete` asks the caller to wait for more bytes (bounded by the caller).
// RFC 8446 §4.1.2 (ClientHello), RFC 6066 §3 (server_name), RFC 7301 §3.1 (ALPN).

export type ClientHelloResult =
  | { readonly kind: 'not-tls' }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'tls'; readonly sni: string; readonly alpn: readonly string[] };

const NOT_TLS: ClientHelloResult = { kind: 'not-tls' };
const INCOMPLETE: ClientHelloResult = { kind: 'incomplete' };
/** A ClientHello larger than this is not inspected further (Envoy's tls_inspector reads at most 16 KiB... and gives up). */
export const MAX_CLIENT_HELLO = 16 * 1024;

export function parseClientHello(b: Buffer): ClientHelloResult {
  if (b.length < 1) return INCOMPLETE;
  if (b[0] !== 0x16) return NOT_TLS; // handshake record
  if (b.length < 5) return INCOMPLETE;
  if (b[1] !== 0x03) return NOT_TLS;
  const recordLen = b.readUInt16BE(3);
  if (b.length < 5 + Math.min(recordLen, 4)) return INCOMPLETE;
  if (b[5] !== 0x01) return NOT_TLS; // client_hello
  const helloLen = (b[6]! << 16) | (b[7]! << 8) | b[8]!;
  const end = 9 + helloLen;
  if (b.length < end) return b.length >= MAX_CLIENT_HELLO ? { kind: 'tls', sni: '', alpn: [] } : INCOMPLETE;
  let p = 9 + 2 + 32; // version, random
  if (p >= end) return { kind: 'tls', sni: '', alpn: [] };
  p += 1 + b[p]!; // session id
  if (p + 2 > end) return { kind: 'tls', sni: '', alpn: [] };
  p += 2 + b.readUInt16BE(p); // cipher suites
  if (p + 1 > end) return { kind: 'tls', sni: '', alpn: [] };
  p += 1 + b[p]!; // compression methods
  let sni = '';
  const alpn: string[] = [];
  if (p + 2 > end) return { kind: 'tls', sni, alpn };
  const extEnd = Math.min(end, p + 2 + b.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    const body = p + 4;
    if (body + len > extEnd) break;
    if (type === 0 && len >= 5) {
      // server_name_list: list length, then (type, length, name)
      let q = body + 2;
      const listEnd = body + len;
      while (q + 3 <= listEnd) {
        const nameType = b[q]!;
        const nameLen = b.readUInt16BE(q + 1);
        if (q + 3 + nameLen > listEnd) break;
        if (nameType === 0) {
          sni = b.toString('latin1', q + 3, q + 3 + nameLen).toLowerCase();
          break;
        }
        q += 3 + nameLen;
      }
    } else if (type === 16 && len >= 2) {
      let q = body + 2;
      const listEnd = body + len;
      while (q + 1 <= listEnd) {
        const l = b[q]!;
        if (q + 1 + l > listEnd) break;
        alpn.push(b.toString('latin1', q + 1, q + 1 + l));
        q += 1 + l;
      }
    }
    p = body + len;
  }
  return { kind: 'tls', sni, alpn };
}

/** What Envoy's http_inspector detects on a plaintext connection: `h2c` (prior knowledge), `http/1.1`, or nothing. */
export function sniffHttp(b: Buffer): 'h2c' | 'http/1.1' | 'http/1.0' | 'unknown' | 'incomplete' {
  const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
  const head = b.toString('latin1', 0, Math.min(b.length, PREFACE.length));
  if (PREFACE.startsWith(head) || head.startsWith(PREFACE)) return head.length >= PREFACE.length ? 'h2c' : 'incomplete';
  const sp = head.indexOf(' ');
  if (sp < 0) return /^[A-Z]{1,16}$/.test(head) ? 'incomplete' : 'unknown';
  if (!/^[A-Z]+$/.test(head.slice(0, sp))) return 'unknown';
  const nl = b.indexOf('\r\n');
  if (nl < 0) return b.length < 8192 ? 'incomplete' : 'unknown';
  const line = b.toString('latin1', 0, nl);
  if (line.endsWith(' HTTP/1.1')) return 'http/1.1';
  if (line.endsWith(' HTTP/1.0')) return 'http/1.0';
  return 'unknown';
}
