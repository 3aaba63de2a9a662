// A TLS listener's DownstreamTlsContext settings that Istio writes and the proxy used to ignore, through a
// real ListenerManager and real TLS clients: tls_params (cipher_suites, a maximum version; Gateway
// `cipherSuites`, `maxProtocolVersion`, and the sidecar's inbound cipher list), several certificates (Gateway
// `credentialNames` with an RSA and an ECDSA pair: each client gets the one it can verify), and the chain's
// transport_socket_connect_timeout (a client that stops mid-handshake is cut off; Istio sets 15 s at gateways).
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/transport_sockets/tls/v3/common.proto

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Duplex } from 'node:stream';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { pack } from '../../xds/codec.js';
import { DownstreamTlsContextSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { createLogger } from '../../lib/logger.js';
import { seededRandom } from '../lib/random.js';
import { compileListener, type CompiledListener } from '../runtime/compile-listener.js';
import { compileDownstreamTls } from '../runtime/compile-downstream-tls.js';
import { NO_SECRETS } from '../upstream/connection-pools.js';
import { ListenerManager } from './listener-manager.js';
import { directResponse, filterChain, hcmFilter, listener, route, routeConfig, vhost } from '../../../test/support/xds-fixtures.js';
import { selfSigned } from '../../../test/translate/secret/certs.js';
import { waitFor } from '../../../test/support/wait.js';

const ec = selfSigned('ec.example.com');
const rsa = ((): { cert: string; key: string } => {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-rsa-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=rsa.example.com', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'pipe' });
    return { cert: readFileSync(join(dir, 'c'), 'utf8'), key: readFileSync(join(dir, 'k'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

const pair = (c: { cert: string | Buffer; key: string | Buffer }) => ({ certificateChain: { specifier: { case: 'inlineString' as const, value: c.cert.toString() } }, privateKey: { specifier: { case: 'inlineString' as const, value: c.key.toString() } } });

async function tlsListener(t: TestContext, ctx: MessageInitShape<typeof DownstreamTlsContextSchema>, handshakeTimeout?: string): Promise<number> {
  const manager = new ListenerManager({
    env: { routeTable: () => undefined, cluster: () => undefined, random: seededRandom(1), secrets: NO_SECRETS, onStreamComplete: () => undefined },
    secrets: NO_SECRETS,
    logger: createLogger('error', () => undefined),
  });
  t.after(() => manager.close());
  const chain = filterChain({ name: 'tls', filters: [hcmFilter({ routeConfig: routeConfig('r', [vhost('v', ['*'], [route('ok', { pathSpecifier: { case: 'prefix', value: '/' } }, directResponse(200, 'ok'))])]) })] });
  chain.transportSocket = { $typeName: 'envoy.config.core.v3.TransportSocket', name: 'envoy.transport_sockets.tls', configType: { case: 'typedConfig', value: pack(DownstreamTlsContextSchema, create(DownstreamTlsContextSchema, ctx)) } };
  if (handshakeTimeout !== undefined) chain.transportSocketConnectTimeout = { $typeName: 'google.protobuf.Duration', seconds: 0n, nanos: Number(handshakeTimeout) * 1e6 };
  const r = compileListener(listener({ name: 'tls', address: '127.0.0.1', port: 0, chains: [chain], listenerFilters: ['tls_inspector'] }));
  if (!r.ok) throw new Error(r.problems.join('; '));
  assert.deepEqual(await manager.apply(new Map<string, CompiledListener>([['tls', r.value]])), []);
  return manager.bound().find((b) => b.name === 'tls')?.port ?? 0;
}

/** A handshake with `opts`: what was negotiated, or the error. */
function handshake(port: number, opts: ConnectionOptions): Promise<{ protocol: string | null; cipher: string; certCn: string } | { error: string }> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      resolve({ protocol: s.getProtocol(), cipher: s.getCipher().name, certCn: typeof cn === 'string' ? cn : '' });
      s.destroy();
    });
    s.on('error', (e) => resolve({ error: e.message }));
  });
}

describe('downstream TLS parameters', () => {
  it('cipher_suites and tls_maximum_protocol_version: only what the listener allows is negotiated', async (t) => {
    const port = await tlsListener(t, {
      commonTlsContext: { tlsCertificates: [pair(ec)], tlsParams: { cipherSuites: ['[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]'], tlsMaximumProtocolVersion: 3 } },
    });
    const ok = await handshake(port, {});
    assert.deepEqual(ok, { protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256', certCn: 'ec.example.com' });
    const refused = await handshake(port, { ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384', maxVersion: 'TLSv1.2' });
    assert.ok('error' in refused, 'a client offering none of the listener’s ciphers is refused');
    const tls13only = await handshake(port, { minVersion: 'TLSv1.3' });
    assert.ok('error' in tls13only, 'TLS 1.3 is above the listener’s maximum');
  });

  it('cipher suites OpenSSL does not know are refused when the listener arrives, with the field named', () => {
    const r = compileDownstreamTls(pack(DownstreamTlsContextSchema, create(DownstreamTlsContextSchema, { commonTlsContext: { tlsCertificates: [pair(ec)], tlsParams: { cipherSuites: ['NOT-A-CIPHER'] } } })), 'filter_chains[0].transport_socket');
    assert.ok(!r.ok);
    assert.deepEqual(r.problems, ['filter_chains[0].transport_socket.common_tls_context.tls_params.cipher_suites: Failed to initialize cipher suites NOT-A-CIPHER']);
  });

  it('two certificates (ECDSA and RSA): a client that accepts only RSA signatures gets the RSA one, others the first', async (t) => {
    const port = await tlsListener(t, { commonTlsContext: { tlsCertificates: [pair(ec), pair(rsa)] } });
    const rsaOnly = await handshake(port, { maxVersion: 'TLSv1.2', sigalgs: 'RSA-PSS+SHA256:RSA+SHA256' });
    assert.ok(!('error' in rsaOnly) && rsaOnly.certCn === 'rsa.example.com', JSON.stringify(rsaOnly));
    const ecOnly = await handshake(port, { sigalgs: 'ECDSA+SHA256' });
    assert.ok(!('error' in ecOnly) && ecOnly.certCn === 'ec.example.com', JSON.stringify(ecOnly));
  });

  it('transport_socket_connect_timeout: a client that sends its ClientHello and goes quiet is closed', async (t) => {
    const port = await tlsListener(t, { commonTlsContext: { tlsCertificates: [pair(ec)] } }, '300');
    // A real ClientHello, captured from node's TLS client writing into a stream that never answers.
    const hello = await new Promise<Buffer>((resolve) => {
      const sink = new Duplex({ read() {}, write(chunk: Buffer, _e, cb) { resolve(chunk); cb(); } });
      tlsConnect({ socket: sink, servername: 'x', rejectUnauthorized: false }).on('error', () => undefined);
    });
    const raw = netConnect(port, '127.0.0.1');
    let closedAt = 0;
    raw.on('close', () => (closedAt = Date.now()));
    raw.on('data', () => undefined);
    raw.on('error', () => undefined);
    await new Promise<void>((r) => raw.once('connect', () => r()));
    const sentAt = Date.now();
    raw.write(hello);
    await waitFor(() => closedAt > 0, 'the stalled handshake to be closed', 3000);
    assert.ok(closedAt - sentAt >= 250, `closed after ${closedAt - sentAt} ms`);
  });
});
