// Workload tokens: what Kubernetes' projected service-account tokens are to istiod, for a mesh without
// Kubernetes. The control plane holds a signing key (ES256, made at start, never written out), issues a token
// per workload (`sub: system:serviceaccount:<namespace>:<name>`, audience `istio-ca`, an expiry), and the CA
// trusts exactly the identity a valid token names (Istio's KubeJWTAuthenticator does the same after a
// TokenReview). Whoever can ask the control plane's local API for a token is an administrator, as whoever
// holds cluster-admin credentials is in Kubernetes.

import { SignJWT, jwtVerify, generateKeyPair, type CryptoKey } from 'jose';
import type { Clock } from '../lib/clock.js';
import { CA_TOKEN_AUDIENCE } from '../xds/ca-service.js';
import type { WorkloadIdentity } from './workload-ca.js';

const ISSUER = 'isthmus';
const SUBJECT_RE = /^system:serviceaccount:([^:]+):([^:]+)$/;
/** Kubernetes' default projected token lifetime (1h) is short for a laptop mesh; proxies re-read the token file. */
export const DEFAULT_TOKEN_TTL_MS = 7 * 86_400_000;

export type TokenCheck = { readonly ok: true; readonly identity: WorkloadIdentity } | { readonly ok: false; readonly reason: string };

export class ServiceAccountTokens {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly clock: Clock,
  ) {}

  static async create(clock: Clock): Promise<ServiceAccountTokens> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return new ServiceAccountTokens(privateKey, publicKey, clock);
  }

  /** A token for the workload identity, valid for `ttlMs`. */
  async issue(id: WorkloadIdentity, ttlMs: number = DEFAULT_TOKEN_TTL_MS): Promise<string> {
    const now = Math.floor(this.clock.now() / 1000);
    return new SignJWT({ 'kubernetes.io': { namespace: id.namespace, serviceaccount: { name: id.serviceAccount } } })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(ISSUER)
      .setSubject(`system:serviceaccount:${id.namespace}:${id.serviceAccount}`)
      .setAudience(CA_TOKEN_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + Math.ceil(ttlMs / 1000))
      .sign(this.privateKey);
  }

  /** The identity a token proves, or why it proves none. */
  async verify(token: string): Promise<TokenCheck> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        issuer: ISSUER,
        audience: CA_TOKEN_AUDIENCE,
        currentDate: new Date(this.clock.now()),
      });
      const m = SUBJECT_RE.exec(payload.sub ?? '');
      if (m === null) return { ok: false, reason: 'token subject is not a service account' };
      return { ok: true, identity: { namespace: m[1] ?? '', serviceAccount: m[2] ?? '' } };
    } catch (e) {
      return { ok: false, reason: `token rejected: ${(e as Error).message}` };
    }
  }
}
