// A connection to an upstream host with its cluster's transport socket: plaintext, or TLS with the cluster's
// certificates, trusted CA, SNI, SAN check and ALPN (inline or from SDS). For what speaks raw bytes to a host
// (tcp_proxy, HTTP/1.1 upgrade tunnels); HTTP requests go through the connection pools. A string is why no
// connection was made (SDS_MISSING: a secret the cluster names has not arrived).

import { connect as netConnect, type Socket } from 'node:net';
import type { ClusterHandle, PickedHost } from './cluster-handle.js';
import { SDS_MISSING, type SecretSource } from './connection-pools.js';
import { tlsConnectUpstream, uncheckedChainOptions, upstreamCertificateCheck, upstreamTlsParams } from './upstream-tls-options.js';

/**
 * `onread`: where a plaintext connection's reads go, straight from the socket (tcp_proxy relays them to the
 * client with no filter in between).
 */
export function dial(host: PickedHost, cluster: ClusterHandle, secrets: SecretSource, onread: { buffer: () => Buffer; callback: (n: number, b: Buffer) => boolean } | undefined): Socket | string {
  const t = host.transport;
  if (host.pipe === true) {
    // A Unix domain socket (Istio's Sidecar `unix://` endpoints): no address to leave from, no keepalive.
    if (t.kind === 'raw') return onread !== undefined ? netConnect({ path: host.address, onread }) : netConnect({ path: host.address });
    return 'TLS to a Unix domain socket endpoint is not supported';
  }
  const local = host.localAddress ?? cluster.config.bindAddress;
  // upstream_connection_options.tcp_keepalive: SO_KEEPALIVE, with keepalive_time as the idle time.
  const ka = cluster.config.tcpKeepaliveMs;
  const opts = { host: host.address, port: host.port, ...(local !== undefined ? { localAddress: local } : {}), ...(ka !== undefined ? { keepAlive: true, keepAliveInitialDelay: ka } : {}) };
  if (t.kind === 'raw') return onread !== undefined ? netConnect({ ...opts, onread }) : netConnect(opts);
  const cert = t.sdsCertificate !== undefined ? secrets.certificate(t.sdsCertificate) : t.inlineCertificate;
  const v = t.sdsValidation !== undefined ? secrets.validation(t.sdsValidation) : undefined;
  const ca = t.sdsValidation !== undefined ? v?.trustedCa : t.inlineTrustedCa;
  const crl = v?.crl ?? t.crl;
  if ((t.sdsCertificate !== undefined && cert === undefined) || (t.sdsValidation !== undefined && ca === undefined)) return SDS_MISSING;
  return tlsConnectUpstream({
    ...opts,
    ...(t.sni !== '' ? { servername: t.sni } : {}),
    ...(cert !== undefined ? { cert: cert.cert, key: cert.key } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(crl !== undefined ? { crl } : {}),
    rejectUnauthorized: ca !== undefined && !t.acceptUntrusted,
    checkServerIdentity: upstreamCertificateCheck(t),
    ...upstreamTlsParams(t),
    ...uncheckedChainOptions(t, ca),
    ...(t.alpn.length > 0 ? { ALPNProtocols: [...t.alpn] } : {}),
  });
}
