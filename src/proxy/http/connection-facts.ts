// A downstream connection's facts (addresses, TLS, SNI, client certificate), worked out once when it is
// accepted and kept on its socket (or HTTP/2 session), so streams read them without node's socket proxies.

import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionFacts } from './hcm-env.js';

const kFacts = Symbol('isthmus.connectionFacts');
interface WithFacts {
  [kFacts]?: ConnectionFacts;
}

/** Keeps `facts` on `holder`. */
export function keepFacts(holder: Socket | Duplex | Http2Session, facts: ConnectionFacts): void {
  (holder as WithFacts)[kFacts] = facts;
}

/** The facts kept on `socket`, or else read from it (plaintext). */
export function factsOf(socket: Socket | Duplex | Http2Session): ConnectionFacts {
  const f = (socket as WithFacts)[kFacts];
  if (f !== undefined) return f;
  const s = socket as Socket;
  return { remoteAddress: s.remoteAddress ?? '', remotePort: s.remotePort ?? 0, localAddress: s.localAddress ?? '', localPort: s.localPort ?? 0, tls: false, serverName: '' };
}
