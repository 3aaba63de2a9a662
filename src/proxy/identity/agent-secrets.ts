// The workload agent's certificate as the SDS secrets Istio's TLS contexts name (`default`, `ROOTCA`), in
// front of the secrets the ADS server sends (gateway credentials): lookups by name answer the agent's first.
// The answers are one object per certificate, so pools and TLS contexts tell a rotation by identity.

import { create } from '@bufbuild/protobuf';
import { DataSourceSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { CertificateValidationContextSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { SecretSchema, type Secret } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { TlsCertificateSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import type { SecretSource } from '../upstream/connection-pools.js';
import { ROOT_SECRET, WORKLOAD_SECRET, type WorkloadAgent, type WorkloadCertificate } from './workload-agent.js';

type Certificate = { readonly cert: string; readonly key: string };
type Validation = { readonly trustedCa: string };

const certs = new WeakMap<WorkloadCertificate, Certificate>();
const roots = new WeakMap<WorkloadCertificate, Validation>();

/** The agent's `default` and `ROOTCA`, else `fallback` (the ADS-delivered secrets). */
export function agentSecretSource(agent: Pick<WorkloadAgent, 'current'>, fallback: SecretSource): SecretSource {
  return {
    certificate(name) {
      const c = name === WORKLOAD_SECRET ? agent.current : undefined;
      if (c === undefined) return fallback.certificate(name);
      let v = certs.get(c);
      if (v === undefined) {
        v = { cert: c.certChainPem, key: c.keyPem };
        certs.set(c, v);
      }
      return v;
    },
    validation(name) {
      const c = name === ROOT_SECRET ? agent.current : undefined;
      if (c === undefined) return fallback.validation(name);
      let v = roots.get(c);
      if (v === undefined) {
        v = { trustedCa: c.rootPem };
        roots.set(c, v);
      }
      return v;
    },
  };
}

export interface AgentSecret {
  readonly name: string;
  readonly version: string;
  /** ISO time the agent received it. */
  readonly lastUpdated: string;
  readonly secret: Secret;
}

/** The agent's secrets as Envoy's config_dump lists SDS secrets (dynamic_active_secrets). */
export function agentSecrets(agent: Pick<WorkloadAgent, 'current'>): AgentSecret[] {
  const c = agent.current;
  if (c === undefined) return [];
  const version = c.serial;
  const lastUpdated = new Date(c.receivedAt).toISOString();
  const text = (s: string) => create(DataSourceSchema, { specifier: { case: 'inlineBytes', value: Buffer.from(s) } });
  return [
    {
      name: WORKLOAD_SECRET,
      version,
      lastUpdated,
      secret: create(SecretSchema, {
        name: WORKLOAD_SECRET,
        type: { case: 'tlsCertificate', value: create(TlsCertificateSchema, { certificateChain: text(c.certChainPem), privateKey: text(c.keyPem) }) },
      }),
    },
    {
      name: ROOT_SECRET,
      version,
      lastUpdated,
      secret: create(SecretSchema, {
        name: ROOT_SECRET,
        type: { case: 'validationContext', value: create(CertificateValidationContextSchema, { trustedCa: text(c.rootPem) }) },
      }),
    },
  ];
}
