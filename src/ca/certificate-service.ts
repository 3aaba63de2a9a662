// The control plane's side of istio.v1.auth.IstioCertificateService (Istio's security/pkg/server/ca/server.go
// CreateCertificate): authenticate the caller by its workload token, sign its CSR for exactly that identity
// (never for what the CSR asks), and answer the chain Istio's way: the leaf, the intermediates, then the root
// bundle last (every trusted root during a rotation). Failures use Istio's gRPC codes: Unauthenticated for a
// missing or bad token, InvalidArgument for a CSR the CA refuses.

import { create } from '@bufbuild/protobuf';
import { status, type Metadata, type sendUnaryData, type ServerUnaryCall, type Server, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from '../lib/logger.js';
import { CA_SERVICE } from '../xds/ca-service.js';
import { IstioCertificateResponseSchema, type IstioCertificateRequest, type IstioCertificateResponse } from '../xds/gen/istio/v1/auth/ca_pb.js';
import type { ServiceAccountTokens } from './service-account-tokens.js';
import { spiffeId, type WorkloadCa } from './workload-ca.js';
import { pemBlocks } from './pem.js';

export interface CertificateServiceOptions {
  /** The CA signing now (replaced when the cacerts folder changes). */
  readonly ca: () => WorkloadCa;
  readonly tokens: ServiceAccountTokens;
  readonly trustDomain: string;
  readonly logger: Logger;
  /** Called after each certificate issued (proxy-status and tests count them). */
  onIssued?(identity: string, notAfter: Date): void;
}

function bearer(md: Metadata): string | undefined {
  const v = md.get('authorization')[0];
  const s = typeof v === 'string' ? v : v?.toString('utf8');
  if (s === undefined) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(s.trim());
  return m?.[1];
}

type Done = sendUnaryData<IstioCertificateResponse>;

async function createCertificate(o: CertificateServiceOptions, call: ServerUnaryCall<IstioCertificateRequest, IstioCertificateResponse>, done: Done): Promise<void> {
  const token = bearer(call.metadata);
  if (token === undefined) {
    done({ code: status.UNAUTHENTICATED, details: 'request authenticate failure: no bearer token in the authorization header' });
    return;
  }
  const who = await o.tokens.verify(token);
  if (!who.ok) {
    o.logger.warn('CA: request refused', { reason: who.reason });
    done({ code: status.UNAUTHENTICATED, details: `request authenticate failure: ${who.reason}` });
    return;
  }
  const ttlMs = Number(call.request.validityDuration) * 1000;
  const r = await o.ca().signCsr(call.request.csr, who.identity, ttlMs > 0 ? ttlMs : undefined);
  const id = spiffeId(o.trustDomain, who.identity);
  if (!r.ok) {
    o.logger.warn('CA: CSR refused', { identity: id, reason: r.reason });
    done({ code: status.INVALID_ARGUMENT, details: `CSR signing error (${r.reason})` });
    return;
  }
  o.logger.info('CA: issued workload certificate', { identity: id, notAfter: r.notAfter.toISOString() });
  o.onIssued?.(id, r.notAfter);
  done(null, create(IstioCertificateResponseSchema, { certChain: [...pemBlocks(r.certChainPem), r.rootPem] }));
}

/** Adds the certificate service to a gRPC server (the same one that serves ADS, as istiod does on :15012). */
export function addCertificateService(server: Server, o: CertificateServiceOptions): void {
  const impl: UntypedServiceImplementation = {
    CreateCertificate: (call: ServerUnaryCall<IstioCertificateRequest, IstioCertificateResponse>, done: Done) => {
      createCertificate(o, call, done).catch((e: unknown) => done({ code: status.INTERNAL, details: `CA failure: ${(e as Error).message}` }));
    },
  };
  server.addService(CA_SERVICE, impl);
}
