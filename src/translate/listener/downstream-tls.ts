// The TLS a gateway server terminates (Istio's listener.go BuildListenerTLSContext and
// security/model ApplyCredentialSDSToServerCommonTLSContext / ApplyToCommonTLSContext):
// - credentialName(s): certificates over SDS from the control plane, named as Istio names them
//   (`kubernetes://<name>` unless a type prefix is given; `builtin://` is the workload certificate);
//   MUTUAL/OPTIONAL_MUTUAL validate clients against `<credentialName>-cacert` (or caCertCredentialName);
// - ISTIO_MUTUAL: the workload certificate `default`, clients validated against `ROOTCA`;
// - file paths (serverCertificate/privateKey/caCertificates, tlsCertificates): `file-cert:<cert>~<key>` and
//   `file-root:<ca>` secrets the node agent serves from the proxy's disk.
// SDS sources are shared with the cluster translation (cluster/sds.ts). require_client_certificate for MUTUAL
// and ISTIO_MUTUAL; ALPN h2,http/1.1; TLS versions and ciphers from the server for SIMPLE/MUTUAL/OPTIONAL_MUTUAL.

import { create } from '@bufbuild/protobuf';
import type { Server, ServerTLSSettings, TlsProtocolVersion } from '../../api/networking/gateway.js';
import { effectiveTlsMode, isPassThroughServer } from '../../api/networking/gateway.js';
import { isHttpProtocol, parseProtocol } from '../../api/networking/protocol.js';
import {
  CommonTlsContextSchema,
  CommonTlsContext_CombinedCertificateValidationContextSchema as CombinedValidationSchema,
  DownstreamTlsContextSchema,
  type CommonTlsContext,
  type DownstreamTlsContext,
} from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import {
  CertificateValidationContextSchema,
  CertificateValidationContext_TrustChainVerification as TrustChain,
  TlsParametersSchema,
  TlsParameters_TlsProtocol as TlsProtocol,
} from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { StringMatcherSchema, type StringMatcher } from '../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { SDS_DEFAULT, SDS_ROOT } from '../../xds/names.js';
import { SDS_CA_SUFFIX, credentialSecretConfig, fileCertResourceName, fileRootResourceName, sdsSecretConfig } from '../cluster/sds.js';
import { ALPN_DOWNSTREAM_WITH_MXC, ALPN_HTTP } from './well-known.js';

function exactMatchers(names: readonly string[] | undefined): StringMatcher[] {
  return (names ?? []).map((n) => create(StringMatcherSchema, { matchPattern: { case: 'exact', value: n } }));
}

const PROTOCOL_VERSIONS: Readonly<Record<TlsProtocolVersion, TlsProtocol>> = {
  TLS_AUTO: TlsProtocol.TLS_AUTO,
  TLSV1_0: TlsProtocol.TLSv1_0,
  TLSV1_1: TlsProtocol.TLSv1_1,
  TLSV1_2: TlsProtocol.TLSv1_2,
  TLSV1_3: TlsProtocol.TLSv1_3,
};

/** applyServerTLSSettings: versions and cipher suites the server pins. */
function applyServerTlsSettings(tls: ServerTLSSettings, common: CommonTlsContext): void {
  const min = tls.minProtocolVersion ?? 'TLS_AUTO';
  const max = tls.maxProtocolVersion ?? 'TLS_AUTO';
  const ciphers = tls.cipherSuites ?? [];
  if (min === 'TLS_AUTO' && max === 'TLS_AUTO' && ciphers.length === 0) return;
  const params = common.tlsParams ?? create(TlsParametersSchema);
  if (min !== 'TLS_AUTO') params.tlsMinimumProtocolVersion = PROTOCOL_VERSIONS[min];
  if (ciphers.length > 0) params.cipherSuites = [...ciphers];
  if (max !== 'TLS_AUTO') params.tlsMaximumProtocolVersion = PROTOCOL_VERSIONS[max];
  common.tlsParams = params;
}

/**
 * ApplyToCommonTLSContext: the workload certificate (ISTIO_MUTUAL), or certificates from files on the proxy
 * (`file-cert:<cert>~<key>`, served by the node agent); clients validated against `file-root:<ca>` or ROOTCA.
 */
function applyAgentCertificates(tls: ServerTLSSettings, common: CommonTlsContext, validateClient: boolean, fromFiles: boolean): void {
  const ca = fromFiles ? (tls.caCertificates ?? '') : '';
  const pairs = fromFiles
    ? (tls.tlsCertificates ?? []).length > 0
      ? (tls.tlsCertificates ?? []).map((c) => [c.serverCertificate ?? '', c.privateKey ?? ''] as const)
      : [[tls.serverCertificate ?? '', tls.privateKey ?? ''] as const]
    : [['', ''] as const];
  common.tlsCertificateSdsSecretConfigs = pairs.map(([cert, key]) => sdsSecretConfig(cert !== '' && key !== '' ? fileCertResourceName(cert, key) : SDS_DEFAULT));
  if (!validateClient) return;
  common.validationContextType = {
    case: 'combinedValidationContext',
    value: create(CombinedValidationSchema, {
      defaultValidationContext: create(CertificateValidationContextSchema, {
        matchSubjectAltNames: exactMatchers(tls.subjectAltNames),
        ...(tls.caCrl !== undefined && tls.caCrl !== '' ? { crl: { specifier: { case: 'filename', value: tls.caCrl } } } : {}),
        ...(tls.insecureSkipVerify === true ? { trustChainVerification: TrustChain.ACCEPT_UNTRUSTED } : {}),
      }),
      validationContextSdsSecretConfig: sdsSecretConfig(ca !== '' ? fileRootResourceName(ca) : SDS_ROOT),
    }),
  };
}

/** buildGatewayListenerTLSContext: undefined for servers without TLS or passing it through. */
export function buildGatewayTlsContext(server: Server): DownstreamTlsContext | undefined {
  const tls = server.tls;
  if (tls === undefined || isPassThroughServer(server)) return undefined;
  const mode = effectiveTlsMode(tls);
  const p = parseProtocol(server.port.protocol);
  const tcpTerminating = !isHttpProtocol(p) && p !== 'HTTPS';
  const common = create(CommonTlsContextSchema, { alpnProtocols: [...(tcpTerminating && mode === 'ISTIO_MUTUAL' ? ALPN_DOWNSTREAM_WITH_MXC : ALPN_HTTP)] });
  const requireClientCertificate = mode === 'MUTUAL' || mode === 'ISTIO_MUTUAL';
  const validateClient = requireClientCertificate || mode === 'OPTIONAL_MUTUAL';
  const credentialNames = tls.credentialNames ?? [];
  if (mode === 'ISTIO_MUTUAL') {
    applyAgentCertificates(tls, common, validateClient, false);
  } else if (credentialNames.length > 0 || (tls.credentialName ?? '') !== '') {
    const names = credentialNames.length > 0 ? credentialNames : [tls.credentialName ?? ''];
    common.tlsCertificateSdsSecretConfigs = names.map(credentialSecretConfig);
    const caCert = (tls.caCertCredentialName ?? '') !== '' ? (tls.caCertCredentialName ?? '') : `${names[0] ?? ''}${SDS_CA_SUFFIX}`;
    if (mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') {
      common.validationContextType = {
        case: 'combinedValidationContext',
        value: create(CombinedValidationSchema, {
          defaultValidationContext: create(CertificateValidationContextSchema, {
            matchSubjectAltNames: exactMatchers(tls.subjectAltNames),
            verifyCertificateSpki: [...(tls.verifyCertificateSpki ?? [])],
            verifyCertificateHash: [...(tls.verifyCertificateHash ?? [])],
            ...(tls.insecureSkipVerify === true ? { trustChainVerification: TrustChain.ACCEPT_UNTRUSTED } : {}),
          }),
          validationContextSdsSecretConfig: credentialSecretConfig(caCert),
        }),
      };
    } else if ((tls.subjectAltNames ?? []).length > 0) {
      common.validationContextType = { case: 'validationContext', value: create(CertificateValidationContextSchema, { matchSubjectAltNames: exactMatchers(tls.subjectAltNames) }) };
    }
  } else {
    applyAgentCertificates(tls, common, validateClient, true);
  }
  if (mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') applyServerTlsSettings(tls, common);
  return create(DownstreamTlsContextSchema, { commonTlsContext: common, requireClientCertificate });
}
