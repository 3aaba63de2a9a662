// Raw bytes to a listener on 127.0.0.1, for tests of what a proxy answers to requests no HTTP client would
// send (malformed, pipelined, half-sent): everything the proxy wrote back until it closed the connection.

import { connect } from 'node:net';

export function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((ok) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => ok(out));
    s.write(bytes);
  });
}
