// SDS secret references in TLS contexts, named as Istio names them (pkg/model/authentication.go
// ConstructSdsSecretConfig, pilot/pkg/security/model ConstructSdsSecretConfigForCredential): the workload
// certificate `default` and root bundle `ROOTCA` come from the node agent's `sds-grpc` cluster; file
// certificates from a DestinationRule are `file-cert:<cert>~<key>` / `file-root:<ca>` over the same
// cluster; credentialName secrets come over ADS as `kubernetes://<name>`. The listener builder can use these
// for downstream contexts too.

import { create } from '@bufbuild/protobuf';
import {
  AggregatedConfigSourceSchema,
  ApiConfigSource_ApiType,
  ApiConfigSourceSchema,
  ApiVersion,
  ConfigSourceSchema,
  type ConfigSource,
} from '../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { GrpcService_EnvoyGrpcSchema, GrpcServiceSchema } from '../../xds/gen/envoy/config/core/v3/grpc_service_pb.js';
import { SdsSecretConfigSchema, type SdsSecretConfig } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { SDS_DEFAULT, SDS_ROOT } from '../../xds/names.js';
import { durationFromMs } from '../proto-values.js';

/** The node agent's SDS cluster in Istio's bootstrap. */
export const SDS_CLUSTER_NAME = 'sds-grpc';
/** credentialName suffix for the CA bundle of a credential. */
export const SDS_CA_SUFFIX = '-cacert';
/** credentialName that means "the workload's own certificate" (credentials.BuiltinGatewaySecretTypeURI). */
export const BUILTIN_CREDENTIAL = 'builtin://';

function agentSource(): ConfigSource {
  return create(ConfigSourceSchema, {
    configSourceSpecifier: {
      case: 'apiConfigSource',
      value: create(ApiConfigSourceSchema, {
        apiType: ApiConfigSource_ApiType.GRPC,
        setNodeOnFirstMessageOnly: true,
        transportApiVersion: ApiVersion.V3,
        grpcServices: [
          create(GrpcServiceSchema, { targetSpecifier: { case: 'envoyGrpc', value: create(GrpcService_EnvoyGrpcSchema, { clusterName: SDS_CLUSTER_NAME }) } }),
        ],
      }),
    },
    resourceApiVersion: ApiVersion.V3,
  });
}

/** ConstructSdsSecretConfig: a secret from the node agent; `default` and `ROOTCA` never time out waiting. */
export function sdsSecretConfig(name: string): SdsSecretConfig {
  const sdsConfig = agentSource();
  if (name === SDS_DEFAULT || name === SDS_ROOT) sdsConfig.initialFetchTimeout = durationFromMs(0);
  return create(SdsSecretConfigSchema, { name, sdsConfig });
}

const TYPED_CREDENTIAL_PREFIXES = ['configmap://', 'kubernetes://', 'kubernetes-gateway://'];

/** credentials.ToResourceName: a name without one of Istio's type prefixes is a Kubernetes secret. */
function credentialResourceName(name: string): string {
  return TYPED_CREDENTIAL_PREFIXES.some((p) => name.startsWith(p)) ? name : `kubernetes://${name}`;
}

/** ConstructSdsSecretConfigForCredential (no credential socket, no external SDS provider): served over ADS. */
export function credentialSecretConfig(name: string): SdsSecretConfig {
  if (name === BUILTIN_CREDENTIAL) return sdsSecretConfig(SDS_DEFAULT);
  if (name === BUILTIN_CREDENTIAL + SDS_CA_SUFFIX) return sdsSecretConfig(SDS_ROOT);
  const bare = name.startsWith('sds://') ? name.slice('sds://'.length) : name;
  return create(SdsSecretConfigSchema, {
    name: credentialResourceName(bare),
    sdsConfig: create(ConfigSourceSchema, {
      configSourceSpecifier: { case: 'ads', value: create(AggregatedConfigSourceSchema, {}) },
      resourceApiVersion: ApiVersion.V3,
    }),
  });
}

/** SdsCertificateConfig.GetResourceName for DestinationRule file certificates. */
export function fileCertResourceName(cert: string, key: string): string {
  return `file-cert:${cert}~${key}`;
}

/** SdsCertificateConfig.GetRootResourceName. */
export function fileRootResourceName(ca: string): string {
  return `file-root:${ca}`;
}
