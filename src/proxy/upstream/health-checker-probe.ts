// The contract between the health checker (timers, thresholds, host state) and the probes that talk to a
// host (HTTP, gRPC, TCP), and the connection settings a probe dials with. A probe owns its connection and
// reports each check's outcome through the callback it was built with; it never schedules anything itself.
// Health checks run over the cluster's transport socket (TLS when the cluster uses TLS; tls_options may
// replace the ALPN list), as Envoy documents for HealthCheck.TlsOptions. SDS secrets are read when a
// connection is opened, so a secret that arrives later is used by the next check.

import type { ConnectionOptions } from 'node:tls';
import type { TransportSettings } from '../runtime/compile-cluster.js';
import { SDS_MISSING, type SecretSource } from './connection-pools.js';
import { uncheckedChainOptions, upstreamCertificateCheck, upstreamTlsParams } from './upstream-tls-options.js';

/**
 * One check's result. `network` failures (connect error, reset, timeout) count toward unhealthy_threshold;
 * `active` failures (a bad status or payload) mark the host unhealthy at once unless `retriable`.
 */
/** `verifiedCluster`: the HTTP check compared x-envoy-upstream-healthchecked-cluster with service_name_matcher (Envoy's verify_cluster stat). */
export type ProbeOutcome =
  | { readonly ok: true; readonly degraded: boolean; readonly verifiedCluster?: true }
  | { readonly ok: false; readonly type: 'network' | 'timeout' | 'active'; readonly retriable: boolean; readonly excludeImmediately: boolean; readonly verifiedCluster?: true };

export const NETWORK_FAILURE: ProbeOutcome = Object.freeze({ ok: false, type: 'network', retriable: false, excludeImmediately: false });
export const ACTIVE_FAILURE: ProbeOutcome = Object.freeze({ ok: false, type: 'active', retriable: false, excludeImmediately: false });
export const SUCCESS: ProbeOutcome = Object.freeze({ ok: true, degraded: false });

export interface ProbeTarget {
  /** Where checks connect (Endpoint.health_check_config address/port when set). */
  readonly address: string;
  readonly port: number;
  /** Host header / :authority: the check's host or authority, else the endpoint's health-check hostname, else the cluster name. */
  readonly authority: string;
  readonly transport: TransportSettings;
  /** tls_options.alpn_protocols when set. */
  readonly alpn: readonly string[] | undefined;
  readonly localAddress: string | undefined;
  readonly secrets: SecretSource;
  readonly reuseConnection: boolean;
  readonly timeoutMs: number;
}

export interface Probe {
  /** Starts one check; its outcome is reported through the probe's callback. */
  run(): void;
  /** The check in flight timed out: drop it without reporting, closing what it used as Envoy does. */
  abort(): void;
  /** Closes every connection; nothing is reported afterwards. */
  close(): void;
}

export type ProbeReport = (outcome: ProbeOutcome) => void;

/** `[v6]:port` or `v4:port`, as the %UPSTREAM_REMOTE_ADDRESS% formatter prints it. */
export function targetAddress(t: ProbeTarget): string {
  return t.address.includes(':') ? `[${t.address}]:${t.port}` : `${t.address}:${t.port}`;
}

export type TlsResult = { readonly ok: true; readonly options: ConnectionOptions | undefined } | { readonly ok: false; readonly reason: string };

/** node:tls options for the target's transport (undefined for plaintext), or why it cannot connect yet. */
export function tlsOptions(t: ProbeTarget, defaultAlpn: readonly string[]): TlsResult {
  const tr = t.transport;
  if (tr.kind !== 'tls') return { ok: true, options: undefined };
  let cert = tr.inlineCertificate;
  if (tr.sdsCertificate !== undefined) {
    cert = t.secrets.certificate(tr.sdsCertificate);
    if (cert === undefined) return { ok: false, reason: SDS_MISSING };
  }
  let ca = tr.inlineTrustedCa;
  let crl = tr.crl;
  if (tr.sdsValidation !== undefined) {
    const v = t.secrets.validation(tr.sdsValidation);
    if (v === undefined) return { ok: false, reason: SDS_MISSING };
    ca = v.trustedCa;
    crl = v.crl ?? crl;
  }
  const alpn = t.alpn ?? (tr.alpn.length > 0 ? tr.alpn : defaultAlpn);
  const o: ConnectionOptions = {
    // Without a validation context Envoy does not verify the upstream certificate.
    rejectUnauthorized: ca !== undefined && !tr.acceptUntrusted,
    ...(tr.sni !== '' ? { servername: tr.sni } : {}),
    ...(cert !== undefined ? { cert: cert.cert, key: cert.key } : {}),
    ...(ca !== undefined ? { ca } : {}),
    // The cluster's CRL and SAN matchers apply to health check connections as to traffic (they use its
    // transport socket): no host name check beyond them, as Envoy makes none.
    ...(crl !== undefined ? { crl } : {}),
    checkServerIdentity: upstreamCertificateCheck(tr),
    ...upstreamTlsParams(tr),
    ...uncheckedChainOptions(tr, ca),
    ...(alpn.length > 0 ? { ALPNProtocols: [...alpn] } : {}),
  };
  return { ok: true, options: o };
}
