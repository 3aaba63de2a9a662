// The server TLS context a sidecar's inbound mTLS chains terminate with (Istio's
// pilot/pkg/security/authn/utils BuildInboundTLS with ApplyToCommonTLSContext): the workload certificate
// `default` and the root bundle `ROOTCA` from the node agent over SDS, a client certificate required and
// checked against every trust domain the mesh accepts (URI SAN prefix `spiffe://<td>/`), TLS 1.2..1.3 with
// Istio's sidecar cipher suites. HTTP chains advertise h2,http/1.1; TCP chains add istio-peer-exchange first
// (metadata exchange is on by default). Nothing for DISABLE.

import { create } from '@bufbuild/protobuf';
import {
  CommonTlsContextSchema,
  CommonTlsContext_CombinedCertificateValidationContextSchema as CombinedValidationSchema,
  DownstreamTlsContextSchema,
  type DownstreamTlsContext,
} from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import {
  CertificateValidationContextSchema,
  TlsParametersSchema,
  TlsParameters_TlsProtocol as TlsProtocol,
} from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { StringMatcherSchema } from '../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { SDS_DEFAULT, SDS_ROOT } from '../../xds/names.js';
import { sdsSecretConfig } from '../cluster/sds.js';
import type { MtlsMode } from './peer-authentication.js';

/** utils.SupportedCiphers: what sidecars accept for inbound mTLS when meshMTLS sets none. */
export const INBOUND_MTLS_CIPHER_SUITES: readonly string[] = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-GCM-SHA256',
];

/** util.ALPNHttp and util.ALPNDownstreamWithMxc. */
const HTTP_ALPN: readonly string[] = ['h2', 'http/1.1'];
const TCP_ALPN: readonly string[] = ['istio-peer-exchange', 'h2', 'http/1.1'];

/** TrustDomainsForValidation: the mesh trust domain and its aliases, empty ones dropped, first occurrence kept. */
export function trustDomainsForValidation(trustDomain: string, aliases: readonly string[] = []): string[] {
  return [...new Set([trustDomain, ...aliases].filter((td) => td !== ''))];
}

/** BuildInboundTLS: undefined for DISABLE (plaintext chains carry no transport socket). */
export function buildInboundTls(mode: MtlsMode, protocol: 'http' | 'tcp', trustDomains: readonly string[]): DownstreamTlsContext | undefined {
  if (mode === 'DISABLE') return undefined;
  const common = create(CommonTlsContextSchema, {
    alpnProtocols: [...(protocol === 'tcp' ? TCP_ALPN : HTTP_ALPN)],
    tlsParams: create(TlsParametersSchema, {
      cipherSuites: [...INBOUND_MTLS_CIPHER_SUITES],
      tlsMinimumProtocolVersion: TlsProtocol.TLSv1_2,
      tlsMaximumProtocolVersion: TlsProtocol.TLSv1_3,
    }),
    tlsCertificateSdsSecretConfigs: [sdsSecretConfig(SDS_DEFAULT)],
    validationContextType: {
      case: 'combinedValidationContext',
      value: create(CombinedValidationSchema, {
        defaultValidationContext: create(CertificateValidationContextSchema, {
          // AppendURIPrefixToTrustDomain: peers of any accepted trust domain, by SPIFFE URI prefix.
          matchSubjectAltNames: trustDomains.map((td) => create(StringMatcherSchema, { matchPattern: { case: 'prefix', value: `spiffe://${td}/` } })),
        }),
        validationContextSdsSecretConfig: sdsSecretConfig(SDS_ROOT),
      }),
    },
  });
  return create(DownstreamTlsContextSchema, { commonTlsContext: common, requireClientCertificate: true });
}
