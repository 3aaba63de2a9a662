// UpstreamTlsContext for a cluster from resolved ClientTLSSettings, as Istio's
// buildUpstreamClusterTLSContext / constructUpstreamTLS (pilot/pkg/networking/core/cluster_tls.go):
// ISTIO_MUTUAL presents the workload certificate (SDS `default`), verifies against `ROOTCA` and the
// destination's SPIFFE identities, sends the cluster's SNI and Istio's in-mesh ALPN; SIMPLE / MUTUAL use the
// rule's files (served by the agent over SDS) or its credentialName (over ADS), and let Envoy derive SNI
// and SAN checks from the request host when the rule sets none (auto_sni / auto_san_validation).
//
// The in-mesh ALPN starts with `istio-peer-exchange` (metadata exchange is on, as in Istio by default): a TCP
// connection negotiates it and both proxies exchange their metadata; HTTP requests never do, as the outbound
// HCM's istio.alpn filter replaces the list per request (istio-http/1.1, istio-h2 ...).

import { create } from '@bufbuild/protobuf';
import type { ClientTLSSettings } from '../../api/networking/destination-rule.js';
import { DataSourceSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { UpstreamHttpProtocolOptionsSchema } from '../../xds/gen/envoy/config/core/v3/protocol_pb.js';
import { CertificateValidationContextSchema, TlsParameters_TlsProtocol, TlsParametersSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  CommonTlsContext_CombinedCertificateValidationContextSchema,
  CommonTlsContextSchema,
  UpstreamTlsContextSchema,
  type CommonTlsContext,
  type UpstreamTlsContext,
} from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { StringMatcherSchema, type StringMatcher } from '../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { SDS_DEFAULT, SDS_ROOT } from '../../xds/names.js';
import { isHttp2Cluster, mutableHttpOptions, type MutableCluster } from './cluster-wrapper.js';
import { credentialSecretConfig, fileCertResourceName, fileRootResourceName, SDS_CA_SUFFIX, sdsSecretConfig } from './sds.js';

/** ALPN for in-mesh mTLS with metadata exchange (Istio's ALPNInMeshWithMxc / ALPNInMeshH2WithMxc). */
export const ALPN_IN_MESH_WITH_MXC = ['istio-peer-exchange', 'istio'] as const;
export const ALPN_IN_MESH_H2_WITH_MXC = ['istio-peer-exchange', 'istio', 'h2'] as const;
/** ALPN for user-originated TLS to an HTTP/2 upstream (ALPNH2Only). */
export const ALPN_H2_ONLY = ['h2'] as const;

export interface TlsContextOptions {
  /** Sidecars ignore credentialName unless the DestinationRule selects workloads (Istio's privileged-credential rule). */
  readonly sidecar: boolean;
  readonly drHasWorkloadSelector: boolean;
  /** SANs to verify for SIMPLE/MUTUAL to a ServiceEntry when the rule lists none (ServiceEntry.subjectAltNames). */
  readonly externalSans: readonly string[];
}

/** util.StringToExactMatch. */
export function exactMatchers(values: readonly string[] | undefined): StringMatcher[] {
  return (values ?? []).map((v) => create(StringMatcherSchema, { matchPattern: { case: 'exact', value: v } }));
}

/** defaultUpstreamCommonTLSContext: TLS 1.2 to 1.3. */
function defaultCommon(): CommonTlsContext {
  return create(CommonTlsContextSchema, {
    tlsParams: create(TlsParametersSchema, {
      tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_2,
      tlsMaximumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3,
    }),
  });
}

function istioMutualContext(mc: MutableCluster, tls: ClientTLSSettings): UpstreamTlsContext {
  const common = defaultCommon();
  common.tlsCertificateSdsSecretConfigs = [sdsSecretConfig(SDS_DEFAULT)];
  common.validationContextType = {
    case: 'combinedValidationContext',
    value: create(CommonTlsContext_CombinedCertificateValidationContextSchema, {
      defaultValidationContext: create(CertificateValidationContextSchema, { matchSubjectAltNames: exactMatchers(tls.subjectAltNames) }),
      validationContextSdsSecretConfig: sdsSecretConfig(SDS_ROOT),
    }),
  };
  common.alpnProtocols = [...(isHttp2Cluster(mc) ? ALPN_IN_MESH_H2_WITH_MXC : ALPN_IN_MESH_WITH_MXC)];
  const sni = tls.sni ?? '';
  return create(UpstreamTlsContextSchema, { commonTlsContext: common, sni: sni !== '' ? sni : mc.cluster.name });
}

/** setAutoSniAndAutoSanValidation for non-DFP clusters. */
function setAutoSniAndSan(mc: MutableCluster, tls: ClientTLSSettings): void {
  const autoSni = (tls.sni ?? '') === '';
  const autoSan = autoSni && (tls.subjectAltNames ?? []).length === 0 && tls.insecureSkipVerify !== true;
  if (!autoSni && !autoSan) return;
  const options = mutableHttpOptions(mc);
  const upstream = (options.upstreamHttpProtocolOptions ??= create(UpstreamHttpProtocolOptionsSchema, {}));
  if (autoSni) upstream.autoSni = true;
  if (autoSan) upstream.autoSanValidation = true;
}

/** constructUpstreamTLS; undefined when MUTUAL lacks its certificate (Istio then sends no TLS at all). */
function userTlsContext(mc: MutableCluster, given: ClientTLSSettings, mutual: boolean, opts: TlsContextOptions): UpstreamTlsContext | undefined {
  const common = defaultCommon();
  const ctx = create(UpstreamTlsContextSchema, { commonTlsContext: common, sni: given.sni ?? '' });
  setAutoSniAndSan(mc, given);
  const tls: ClientTLSSettings =
    (given.subjectAltNames ?? []).length === 0 && opts.externalSans.length > 0 ? { ...given, subjectAltNames: [...opts.externalSans] } : given;
  const credential = tls.credentialName ?? '';
  if (credential !== '') {
    // ApplyCustomSDSToClientCommonTLSContext
    if (mutual) common.tlsCertificateSdsSecretConfigs = [credentialSecretConfig(credential)];
    if (tls.insecureSkipVerify !== true) {
      common.validationContextType = {
        case: 'combinedValidationContext',
        value: create(CommonTlsContext_CombinedCertificateValidationContextSchema, {
          defaultValidationContext: create(CertificateValidationContextSchema, { matchSubjectAltNames: exactMatchers(tls.subjectAltNames) }),
          validationContextSdsSecretConfig: credentialSecretConfig(credential + SDS_CA_SUFFIX),
        }),
      };
    }
  } else {
    const ca = (tls.caCertificates ?? '') !== '' ? (tls.caCertificates ?? '') : 'system';
    if (mutual) {
      const cert = tls.clientCertificate ?? '';
      const key = tls.privateKey ?? '';
      if (cert === '' || key === '') return undefined;
      common.tlsCertificateSdsSecretConfigs = [sdsSecretConfig(fileCertResourceName(cert, key))];
    }
    if (tls.insecureSkipVerify === true) {
      common.validationContextType = { case: 'validationContext', value: create(CertificateValidationContextSchema, {}) };
    } else {
      const crl = tls.caCrl ?? '';
      common.validationContextType = {
        case: 'combinedValidationContext',
        value: create(CommonTlsContext_CombinedCertificateValidationContextSchema, {
          defaultValidationContext: create(CertificateValidationContextSchema, {
            matchSubjectAltNames: exactMatchers(tls.subjectAltNames),
            ...(crl !== '' ? { crl: create(DataSourceSchema, { specifier: { case: 'filename', value: crl } }) } : {}),
          }),
          validationContextSdsSecretConfig: sdsSecretConfig(fileRootResourceName(ca)),
        }),
      };
    }
  }
  if (isHttp2Cluster(mc)) common.alpnProtocols = [...ALPN_H2_ONLY];
  return ctx;
}

/** buildUpstreamClusterTLSContext: the context for `tls` (already resolved for ISTIO_MUTUAL), or undefined for none. */
export function upstreamTlsContext(mc: MutableCluster, tls: ClientTLSSettings | undefined, opts: TlsContextOptions): UpstreamTlsContext | undefined {
  if (tls === undefined) return undefined;
  const mode = tls.mode ?? 'DISABLE';
  const credential = tls.credentialName ?? '';
  if (credential !== '' && !credential.startsWith('configmap://') && opts.sidecar && !opts.drHasWorkloadSelector && (mode === 'SIMPLE' || mode === 'MUTUAL')) {
    return undefined;
  }
  switch (mode) {
    case 'DISABLE':
      return undefined;
    case 'ISTIO_MUTUAL':
      return istioMutualContext(mc, tls);
    case 'SIMPLE':
      return userTlsContext(mc, tls, false, opts);
    case 'MUTUAL':
      return userTlsContext(mc, tls, true, opts);
  }
}
