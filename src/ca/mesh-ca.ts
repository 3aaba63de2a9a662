// The control plane's CA as one piece (istiod's CA bootstrap, pilot/pkg/bootstrap/istio_ca.go): the signer
// from Istio's `cacerts` folder when one is given, else a self-signed root made at start (Istio keeps its
// self-signed root in the istio-ca-secret; here it lives as long as the process, and proxies fetch the new
// root with their next certificate); the workload-token authority; and the gRPC certificate service.

import type { Server } from '@grpc/grpc-js';
import type { Clock } from '../lib/clock.js';
import { IsthmusError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { addCertificateService } from './certificate-service.js';
import { createSelfSignedRoot, loadCacerts, type CaSigner } from './root-ca.js';
import { ServiceAccountTokens } from './service-account-tokens.js';
import { WorkloadCa, type WorkloadIdentity } from './workload-ca.js';

export interface MeshCaOptions {
  readonly trustDomain: string;
  /** Istio's cacerts layout (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem); absent = self-signed root. */
  readonly cacertsDir?: string;
  /** Default workload certificate lifetime (Istio's DEFAULT_WORKLOAD_CERT_TTL, 24h). */
  readonly workloadTtlMs?: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface MeshCa {
  readonly ca: WorkloadCa;
  /** Every trusted root, PEM. */
  rootBundle(): string;
  /** A workload token for `id` (what a pod's projected service-account token is in Kubernetes). */
  issueToken(id: WorkloadIdentity, ttlMs?: number): Promise<string>;
  /** Adds istio.v1.auth.IstioCertificateService to the control plane's gRPC server. */
  addTo(server: Server): void;
  /** Certificates issued since start. */
  readonly issued: number;
}

export async function startMeshCa(o: MeshCaOptions): Promise<MeshCa> {
  let signer: CaSigner;
  if (o.cacertsDir !== undefined) {
    const r = await loadCacerts(o.cacertsDir, o.clock);
    if (!r.ok) throw new IsthmusError('ISM_CA', `cannot use the CA certificates in ${o.cacertsDir}: ${r.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
    for (const w of r.warnings ?? []) o.logger.warn('CA certificates', { file: w.path, message: w.message });
    signer = r.value;
  } else {
    const root = await createSelfSignedRoot({ trustDomain: o.trustDomain, clock: o.clock });
    // Istio's self-signed CA has no chain between the leaf and the root: answers are [leaf, root].
    signer = { ...root, chainPem: '', rootPem: root.certPem };
  }
  const ca = new WorkloadCa(signer, o.clock, { trustDomain: o.trustDomain, ...(o.workloadTtlMs !== undefined ? { workloadTtlMs: o.workloadTtlMs } : {}) });
  const tokens = await ServiceAccountTokens.create(o.clock);
  let issued = 0;
  return {
    ca,
    rootBundle: () => ca.rootBundle(),
    issueToken: (id, ttlMs) => tokens.issue(id, ttlMs),
    addTo: (server) =>
      addCertificateService(server, {
        ca,
        tokens,
        trustDomain: o.trustDomain,
        logger: o.logger,
        onIssued: () => {
          issued++;
        },
      }),
    get issued() {
      return issued;
    },
  };
}
