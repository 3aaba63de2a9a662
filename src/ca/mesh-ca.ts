// The control plane's CA as one piece (istiod's CA bootstrap, pilot/pkg/bootstrap/istio_ca.go): the signer
// from Istio's `cacerts` folder when one is given, else a self-signed root made at start (Istio keeps its
// self-signed root in the istio-ca-secret; here it lives as long as the process, and proxies fetch the new
// root with their next certificate); the workload-token authority; and the gRPC certificate service.

import type { Server } from '@grpc/grpc-js';
import type { Clock } from '../lib/clock.js';
import { IsthmusError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { addCertificateService } from './certificate-service.js';
import { pemBlocks } from './pem.js';
import { createSelfSignedRoot, loadCacerts, CACERTS_FILES, type CaSigner } from './root-ca.js';
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  /** The CA signing now. */
  readonly ca: WorkloadCa;
  /** Every trusted root, PEM. */
  rootBundle(): string;
  /** A workload token for `id` (what a pod's projected service-account token is in Kubernetes). */
  issueToken(id: WorkloadIdentity, ttlMs?: number): Promise<string>;
  /** Adds istio.v1.auth.IstioCertificateService to the control plane's gRPC server. */
  addTo(server: Server): void;
  /** Certificates issued since start. */
  readonly issued: number;
  /**
   * Loads the cacerts folder again (the watcher calls this when its files change). A valid folder replaces the
   * signer, and every root trusted so far stays in the bundle, so certificates from the old root keep working
   * while proxies renew (Istio's plugged-in CA rotation). An invalid one changes nothing.
   */
  reload(): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** Stops watching the cacerts folder. */
  close(): void;
}

async function signerFrom(o: MeshCaOptions): Promise<CaSigner> {
  if (o.cacertsDir !== undefined) {
    const r = await loadCacerts(o.cacertsDir, o.clock);
    if (!r.ok) throw new IsthmusError('ISM_CA', `cannot use the CA certificates in ${o.cacertsDir}: ${r.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
    for (const w of r.warnings ?? []) o.logger.warn('CA certificates', { file: w.path, message: w.message });
    return r.value;
  }
  const root = await createSelfSignedRoot({ trustDomain: o.trustDomain, clock: o.clock });
  // Istio's self-signed CA has no chain between the leaf and the root: answers are [leaf, root].
  return { ...root, chainPem: '', rootPem: root.certPem };
}

export async function startMeshCa(o: MeshCaOptions): Promise<MeshCa> {
  const make = (signer: CaSigner): WorkloadCa =>
    new WorkloadCa(signer, o.clock, { trustDomain: o.trustDomain, ...(o.workloadTtlMs !== undefined ? { workloadTtlMs: o.workloadTtlMs } : {}) });
  let ca = make(await signerFrom(o));
  const tokens = await ServiceAccountTokens.create(o.clock);
  let issued = 0;
  let fingerprint = o.cacertsDir !== undefined ? await folderFingerprint(o.cacertsDir) : '';
  const reload = async (): Promise<{ ok: true } | { ok: false; reason: string }> => {
    let next: WorkloadCa;
    try {
      next = make(await signerFrom(o));
    } catch (e) {
      const reason = (e as Error).message;
      o.logger.error('CA certificates not reloaded; the current CA keeps signing', { reason });
      return { ok: false, reason };
    }
    for (const pem of pemBlocks(ca.rootBundle())) next.addTrustedRoot(pem);
    ca = next;
    o.logger.info('CA certificates reloaded', { dir: o.cacertsDir ?? '' });
    return { ok: true };
  };
  // Istio's istiod watches the cacerts folder; files are replaced one by one, so changes are debounced.
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (o.cacertsDir !== undefined) {
    const dir = o.cacertsDir;
    watcher = watch(dir, () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        void folderFingerprint(dir).then((f) => {
          if (f === fingerprint) return;
          fingerprint = f;
          return reload();
        });
      }, 300);
    });
    watcher.on('error', () => undefined);
  }
  return {
    get ca() {
      return ca;
    },
    rootBundle: () => ca.rootBundle(),
    issueToken: (id, ttlMs) => tokens.issue(id, ttlMs),
    addTo: (server) =>
      addCertificateService(server, {
        ca: () => ca,
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
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}

/** The cacerts files' contents, hashed: a change of any of them is a new CA. */
async function folderFingerprint(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const f of Object.values(CACERTS_FILES)) h.update(await readFile(join(dir, f)).catch(() => Buffer.alloc(0)));
  return h.digest('hex');
}
