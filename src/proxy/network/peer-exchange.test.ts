// The TCP metadata exchange on real TLS connections: both sides learn each other's workload and the
// application bytes after the frames arrive untouched; a connection that did not negotiate the protocol
// (other ALPN, plaintext) is left alone; a peer that negotiated it but sends no frame keeps its bytes and stays
// unknown; a peer that closes inside the exchange ends it.

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, createServer as createNetServer, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { selfSigned } from '../../../test/translate/secret/certs.js';
import { ownWorkload } from '../telemetry/istio-metrics.js';
import { StatsStore } from '../stats/stats-store.js';
import { runPeerExchange, type PeerExchangeOutcome } from './peer-exchange.js';

const MX = { protocol: 'istio-peer-exchange' } as const;
const CLIENT = ownWorkload('sidecar~10.1.0.1~productpage-v1-x.default~default.svc.cluster.local', { NAMESPACE: 'default', WORKLOAD_NAME: 'productpage-v1', LABELS: { app: 'productpage', version: 'v1' } });
const SERVER = ownWorkload('sidecar~10.1.0.2~reviews-v2-y.default~default.svc.cluster.local', { NAMESPACE: 'default', WORKLOAD_NAME: 'reviews-v2', LABELS: { app: 'reviews', version: 'v2' } });

/** A TLS connection over loopback: the server's and the client's socket, after the handshake. */
async function tlsPair(t: TestContext, serverAlpn: string[], clientAlpn: string[]): Promise<{ server: TLSSocket; client: TLSSocket }> {
  const cert = selfSigned('peer-exchange.test');
  const server = createTlsServer({ cert: cert.cert, key: cert.key, ALPNProtocols: serverAlpn });
  t.after(() => server.close());
  const accepted = new Promise<TLSSocket>((ok) => server.once('secureConnection', (s: TLSSocket) => ok(s)));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const port = (server.address() as { port: number }).port;
  const client = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: clientAlpn });
  await new Promise<void>((ok) => client.once('secureConnect', () => ok()));
  const s = await accepted;
  t.after(() => {
    s.destroy();
    client.destroy();
  });
  return { server: s, client };
}

function exchange(socket: Socket, own: typeof CLIENT, stats?: StatsStore): Promise<PeerExchangeOutcome> {
  return new Promise((ok) => runPeerExchange(socket, MX, { own, timeoutMs: 5_000, stats }, ok));
}

/** Everything `socket` reads until it ends. */
function readToEnd(socket: Socket): Promise<string> {
  return new Promise((ok) => {
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('end', () => ok(got));
    socket.resume();
  });
}

describe('TCP metadata exchange on a connection', () => {
  it('when both sides negotiated istio-peer-exchange, each learns the other and the app bytes arrive untouched', async (t) => {
    const { server, client } = await tlsPair(t, ['istio-peer-exchange', 'h2', 'http/1.1'], ['istio-peer-exchange', 'istio']);
    const stats = new StatsStore();
    const [atServer, atClient] = await Promise.all([exchange(server, SERVER, stats), exchange(client, CLIENT)]);
    assert.deepEqual(atServer, { kind: 'exchanged', peer: CLIENT.metadata });
    assert.deepEqual(atClient, { kind: 'exchanged', peer: SERVER.metadata });
    const received = readToEnd(server);
    const echoed = readToEnd(client);
    server.write('and these back');
    client.end('hello, exactly these bytes');
    assert.equal(await received, 'hello, exactly these bytes');
    server.end();
    assert.equal(await echoed, 'and these back');
    assert.equal(stats.counter('metadata_exchange.alpn_protocol_found').value, 1);
    assert.equal(stats.counter('metadata_exchange.metadata_added').value, 1);
  });

  it('keeps bytes the peer sent right behind its frame', async (t) => {
    const { server, client } = await tlsPair(t, ['istio-peer-exchange'], ['istio-peer-exchange']);
    const atClient = exchange(client, CLIENT);
    const atServer = exchange(server, SERVER);
    // The server's app speaks first: its bytes follow the server's frame in the same flight.
    server.write('220 ready\r\n');
    assert.equal((await atClient).kind, 'exchanged');
    assert.equal((await atServer).kind, 'exchanged');
    const got = readToEnd(client);
    server.end();
    assert.equal(await got, '220 ready\r\n');
  });

  it('does nothing on a connection that negotiated another protocol: no frame is written, nothing is read', async (t) => {
    const { server, client } = await tlsPair(t, ['istio-peer-exchange', 'istio'], ['istio']);
    const stats = new StatsStore();
    assert.deepEqual(await exchange(server, SERVER, stats), { kind: 'skipped' });
    assert.equal(stats.counter('metadata_exchange.alpn_protocol_not_found').value, 1);
    const got = readToEnd(client);
    server.end('plain');
    assert.equal(await got, 'plain');
  });

  it('does nothing on plaintext', async (t) => {
    const srv = createNetServer();
    t.after(() => srv.close());
    const accepted = new Promise<Socket>((ok) => srv.once('connection', ok));
    await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', () => ok()));
    const c = netConnect((srv.address() as { port: number }).port, '127.0.0.1');
    const s = await accepted;
    t.after(() => {
      s.destroy();
      c.destroy();
    });
    assert.deepEqual(await exchange(s, SERVER), { kind: 'skipped' });
  });

  it('a peer that negotiated the protocol but sends no frame stays unknown, and its bytes reach the app', async (t) => {
    const { server, client } = await tlsPair(t, ['istio-peer-exchange'], ['istio-peer-exchange']);
    const stats = new StatsStore();
    const atServer = exchange(server, SERVER, stats);
    client.write('SSH-2.0-OpenSSH\r\n');
    assert.deepEqual(await atServer, { kind: 'exchanged', peer: undefined });
    assert.equal(stats.counter('metadata_exchange.initial_header_not_found').value, 1);
    const got = readToEnd(server);
    client.end();
    assert.equal(await got, 'SSH-2.0-OpenSSH\r\n');
  });

  it('a peer that closes inside the exchange ends it', async (t) => {
    const { server, client } = await tlsPair(t, ['istio-peer-exchange'], ['istio-peer-exchange']);
    const atServer = exchange(server, SERVER);
    client.end(Buffer.from([0x3d, 0x23, 0x04, 0x67, 0, 0]));
    const r = await atServer;
    assert.equal(r.kind, 'closed');
  });
});
