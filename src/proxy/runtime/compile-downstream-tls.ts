// Compiles a listener filter chain's DownstreamTlsContext (TLS termination at gateways and inbound mTLS):
// certificates inline or by SDS name, client certificate requirement, trusted CA, the client certificate
// checks of the validation context (SAN matchers, SPKI and certificate hash pins, the CRL, and
// trust_chain_verification), ALPN and TLS versions. The secure context itself is built when secrets are
// known, and the checks are made after each handshake (network/tls-terminator.ts).

import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { DownstreamTlsContextSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { DataSource } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { StringMatcher } from '../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import type { Compiled } from './compile-cluster.js';
import { cipherList, TLS_VERSIONS, type TlsVersion } from './tls-params.js';

export type { TlsVersion };
import { dataSourceText } from './data-source.js';
import { createSecureContext } from 'node:tls';
import { CertificateValidationContext_TrustChainVerification as TrustChain } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';


export interface DownstreamTls {
  readonly inlineCertificate: { readonly cert: string; readonly key: string } | undefined;
  readonly sdsCertificate: string | undefined;
  /** Further certificates (an RSA and an ECDSA pair, say): OpenSSL serves the one the client supports. */
  readonly moreInlineCertificates: readonly { readonly cert: string; readonly key: string }[];
  readonly moreSdsCertificates: readonly string[];
  readonly inlineTrustedCa: string | undefined;
  readonly sdsValidation: string | undefined;
  readonly requireClientCertificate: boolean;
  readonly subjectAltNames: readonly StringMatcher[];
  /** verify_certificate_spki: base64 SHA-256 of the certificate's SubjectPublicKeyInfo. */
  readonly verifySpki: readonly string[];
  /** verify_certificate_hash: SHA-256 of the certificate's DER, lowercase hex without colons. */
  readonly verifyHash: readonly string[];
  /** trust_chain_verification ACCEPT_UNTRUSTED (Istio's insecureSkipVerify): failed checks do not refuse. */
  readonly acceptUntrusted: boolean;
  /** The certificate revocation list (PEM) presented client certificates are checked against. */
  readonly crl: string | undefined;
  readonly alpn: readonly string[];
  readonly minVersion: TlsVersion | undefined;
  readonly maxVersion: TlsVersion | undefined;
  /** tls_params.cipher_suites as an OpenSSL cipher list (TLS 1.0-1.2; Envoy's `[a|b]` groups flattened). */
  readonly ciphers: string | undefined;
  /** tls_params.ecdh_curves as an OpenSSL curve list. */
  readonly ecdhCurves: string | undefined;
}


function data(ds: DataSource | undefined, path: string, problems: string[]): string | undefined {
  const s = ds?.specifier;
  if (s === undefined || s.case === undefined) return undefined;
  if (s.case === 'inlineString') return s.value;
  if (s.case === 'inlineBytes') return Buffer.from(s.value).toString('utf8');
  problems.push(`${path}: ${s.case} data sources are not supported; use SDS or inline data`);
  return undefined;
}

export function compileDownstreamTls(any: Any, path: string): Compiled<DownstreamTls> {
  const t = anyUnpack(any, DownstreamTlsContextSchema);
  if (t === undefined) return { ok: false, problems: [`${path}.typed_config: unsupported transport socket ${any.typeUrl}`] };
  const problems: string[] = [];
  const c = t.commonTlsContext;
  const tc = c?.tlsCertificates[0];
  const cert = data(tc?.certificateChain, `${path}.common_tls_context.tls_certificates[0].certificate_chain`, problems);
  const key = data(tc?.privateKey, `${path}.common_tls_context.tls_certificates[0].private_key`, problems);
  const sdsCertificate = c?.tlsCertificateSdsSecretConfigs[0]?.name;
  if (cert === undefined && sdsCertificate === undefined) problems.push(`${path}.common_tls_context: a certificate (tls_certificates or tls_certificate_sds_secret_configs) is required`);
  const vc = c?.validationContextType;
  const dvc = vc?.case === 'combinedValidationContext' ? vc.value.defaultValidationContext : vc?.case === 'validationContext' ? vc.value : undefined;
  const sdsValidation = vc?.case === 'combinedValidationContext' ? vc.value.validationContextSdsSecretConfig?.name : vc?.case === 'validationContextSdsSecretConfig' ? vc.value.name : undefined;
  const params = c?.tlsParams;
  const minV = params?.tlsMinimumProtocolVersion;
  const maxV = params?.tlsMaximumProtocolVersion;
  const ciphers = (params?.cipherSuites.length ?? 0) > 0 ? cipherList(params?.cipherSuites ?? []) : undefined;
  const ecdhCurves = (params?.ecdhCurves.length ?? 0) > 0 ? (params?.ecdhCurves ?? []).join(':') : undefined;
  // What OpenSSL cannot use is refused now, as Envoy refuses a context it cannot build.
  if (ciphers !== undefined) {
    try {
      createSecureContext({ ciphers });
    } catch {
      problems.push(`${path}.common_tls_context.tls_params.cipher_suites: Failed to initialize cipher suites ${ciphers}`);
    }
  }
  if (ecdhCurves !== undefined) {
    try {
      createSecureContext({ ecdhCurve: ecdhCurves });
    } catch {
      problems.push(`${path}.common_tls_context.tls_params.ecdh_curves: Failed to initialize ECDH curves ${ecdhCurves}`);
    }
  }
  const more = (c?.tlsCertificates ?? []).slice(1).map((x, i) => {
    const mc = data(x.certificateChain, `${path}.common_tls_context.tls_certificates[${i + 1}].certificate_chain`, problems);
    const mk = data(x.privateKey, `${path}.common_tls_context.tls_certificates[${i + 1}].private_key`, problems);
    return mc !== undefined && mk !== undefined ? { cert: mc, key: mk } : undefined;
  });
  const crl = dataSourceText(dvc?.crl, `${path}.validation_context.crl`, problems);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      inlineCertificate: cert !== undefined && key !== undefined ? { cert, key } : undefined,
      sdsCertificate,
      inlineTrustedCa: data(dvc?.trustedCa, `${path}.validation_context.trusted_ca`, problems),
      sdsValidation,
      requireClientCertificate: t.requireClientCertificate ?? false,
      // match_typed_subject_alt_names wins when set; Istio sends the untyped list.
      subjectAltNames:
        (dvc?.matchTypedSubjectAltNames.length ?? 0) > 0
          ? (dvc?.matchTypedSubjectAltNames.map((m) => m.matcher).filter((m): m is StringMatcher => m !== undefined) ?? [])
          : (dvc?.matchSubjectAltNames ?? []),
      verifySpki: dvc?.verifyCertificateSpki ?? [],
      verifyHash: (dvc?.verifyCertificateHash ?? []).map((h) => h.replaceAll(':', '').toLowerCase()),
      acceptUntrusted: dvc?.trustChainVerification === TrustChain.ACCEPT_UNTRUSTED,
      crl,
      alpn: c?.alpnProtocols ?? [],
      minVersion: minV === undefined ? undefined : TLS_VERSIONS[minV],
      maxVersion: maxV === undefined ? undefined : TLS_VERSIONS[maxV],
      ciphers,
      ecdhCurves,
      moreInlineCertificates: more.filter((x): x is { cert: string; key: string } => x !== undefined),
      moreSdsCertificates: (c?.tlsCertificateSdsSecretConfigs ?? []).slice(1).map((x) => x.name),
    },
  };
}
