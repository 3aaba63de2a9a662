// The proxy's workload agent (istio-agent's SDS server and CA client, in process): it makes a key and CSR,
// sends the CSR to the control plane's IstioCertificateService with the workload's token, and serves the
// answer as the SDS secrets Istio's TLS contexts name: `default` (the workload certificate chain and key) and
// `ROOTCA` (the trusted root bundle). It renews at half the certificate's life (Istio's
// SECRET_GRACE_PERIOD_RATIO 0.5, with a little jitter) with a new key, and retries failures with backoff;
// new handshakes use the new certificate while established connections keep theirs, so nothing is dropped.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { Client, credentials, Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { CA_SERVICE } from '../../xds/ca-service.js';
import { IstioCertificateRequestSchema, type IstioCertificateResponse } from '../../xds/gen/istio/v1/auth/ca_pb.js';
import type { Random } from '../lib/random.js';
import { createKeyAndCsr } from './csr.js';

/** SDS names of the workload certificate and the root bundle (Istio's `default` and `ROOTCA`). */
export const WORKLOAD_SECRET = 'default';
export const ROOT_SECRET = 'ROOTCA';

export interface WorkloadCertificate {
  /** Leaf first, then the intermediates. */
  readonly certChainPem: string;
  readonly keyPem: string;
  /** Every trusted root (old and new during a rotation). */
  readonly rootPem: string;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The identity the CA put in the certificate. */
  readonly spiffeId: string;
  /** When the agent received it. */
  readonly receivedAt: number;
}

/** How a proxy is given its identity (`isthmus proxy --token-file`, `--ca-address`, `--cert-ttl`). */
export interface ProxyIdentityOptions {
  /** The CA's gRPC address (Istio's CA_ADDR); the xDS server's by default. */
  readonly caAddress?: string;
  /** Reads the workload token (a file, re-read for every request). */
  readonly token: () => Promise<string>;
  /** Certificate lifetime to ask for, in seconds (0 = the CA's default, 24h). */
  readonly certTtlSeconds?: number;
  /** `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`, asked for in the CSR. */
  readonly requestedSan?: string;
}

export interface WorkloadAgentOptions {
  /** The CA's gRPC address, `host:port` (Istio: CA_ADDR, by default the discovery address). */
  readonly caAddress: string;
  /** The workload's token, read anew for every request (a projected token file is rotated by its owner). */
  readonly token: () => Promise<string>;
  /** The identity to ask for in the CSR (the CA decides from the token anyway). */
  readonly requestedSan?: string;
  /** Lifetime to ask for, in seconds (0 = the CA's default). */
  readonly certTtlSeconds?: number;
  /** Fraction of the lifetime left when renewal starts (Istio: 0.5). */
  readonly graceRatio?: number;
  /** Node metadata sent with requests, as strings. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** Called whenever the certificate or roots change. */
  readonly onChange: () => void;
}

const REQUEST_TIMEOUT_MS = 10_000;
const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;

function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.map((b) => (b.endsWith('\n') ? b : `${b}\n`)) ?? [];
}

export class WorkloadAgent {
  readonly #o: WorkloadAgentOptions;
  readonly #client: Client;
  #current: WorkloadCertificate | undefined;
  #timer: { cancel(): void } | undefined;
  #closed = false;
  #inFlight = false;
  #backoffMs = MIN_BACKOFF_MS;
  #lastError = '';
  #fetches = 0;

  constructor(o: WorkloadAgentOptions) {
    this.#o = o;
    this.#client = new Client(o.caAddress, credentials.createInsecure());
  }

  /** Requests the first certificate now. */
  start(): void {
    this.#fetch();
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#client.close();
  }

  /** The certificate in use, once one has arrived. */
  get current(): WorkloadCertificate | undefined {
    return this.#current;
  }

  /** The last failure, '' after a success. */
  get lastError(): string {
    return this.#lastError;
  }

  /** Certificates received since start. */
  get fetches(): number {
    return this.#fetches;
  }

  /** Renews now (admin and tests), unless a request is already on its way. */
  renew(): void {
    this.#timer?.cancel();
    this.#fetch();
  }

  #schedule(ms: number): void {
    this.#timer?.cancel();
    if (this.#closed) return;
    this.#timer = this.#o.clock.setTimeout(() => this.#fetch(), Math.max(0, ms));
  }

  #fetch(): void {
    if (this.#closed || this.#inFlight) return;
    this.#inFlight = true;
    this.#request()
      .then((cert) => {
        this.#current = cert;
        this.#fetches++;
        this.#lastError = '';
        this.#backoffMs = MIN_BACKOFF_MS;
        const life = cert.notAfter.getTime() - cert.receivedAt;
        const ratio = this.#o.graceRatio ?? 0.5;
        const jitter = 1 - 0.02 * this.#o.random.next();
        this.#o.logger.info('workload certificate received', { identity: cert.spiffeId, serial: cert.serial, notAfter: cert.notAfter.toISOString() });
        this.#schedule(Math.max(MIN_BACKOFF_MS, life * (1 - ratio) * jitter));
        this.#o.onChange();
      })
      .catch((e: unknown) => {
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== this.#lastError) this.#o.logger.warn('workload certificate request failed; retrying', { ca: this.#o.caAddress, error: msg, retryInMs: this.#backoffMs });
        this.#lastError = msg;
        this.#schedule(this.#backoffMs * (0.8 + 0.4 * this.#o.random.next()));
        this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2);
      })
      .finally(() => {
        this.#inFlight = false;
      });
  }

  async #request(): Promise<WorkloadCertificate> {
    const token = (await this.#o.token()).trim();
    const { keyPem, csrPem } = await createKeyAndCsr(this.#o.requestedSan);
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    const req = create(IstioCertificateRequestSchema, {
      csr: csrPem,
      validityDuration: BigInt(this.#o.certTtlSeconds ?? 0),
      ...(this.#o.metadata !== undefined ? { metadata: { fields: Object.fromEntries(Object.entries(this.#o.metadata).map(([k, v]) => [k, { kind: { case: 'stringValue', value: v } }])) } } : {}),
    });
    const m = CA_SERVICE.CreateCertificate;
    const res = await new Promise<IstioCertificateResponse>((ok, fail) => {
      this.#client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, md, { deadline: Date.now() + REQUEST_TIMEOUT_MS }, (err: ServiceError | null, r?: IstioCertificateResponse) => {
        if (err !== null) fail(new Error(`${grpcStatus[err.code] ?? err.code}: ${err.details}`));
        else if (r === undefined) fail(new Error('empty response'));
        else ok(r);
      });
    });
    return this.#parse(res, keyPem);
  }

  #parse(res: IstioCertificateResponse, keyPem: string): WorkloadCertificate {
    const chain = res.certChain;
    if (chain.length < 2) throw new Error(`the CA answered ${chain.length} certificate(s); a chain and a root are required`);
    const certs = chain.slice(0, -1).flatMap(pemBlocks);
    const rootPem = pemBlocks(chain[chain.length - 1] ?? '').join('');
    const leafPem = certs[0];
    if (leafPem === undefined || rootPem === '') throw new Error('the CA answered no usable certificate');
    const leaf = new X509Certificate(leafPem);
    if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('the CA signed a different key than the one sent');
    const uri = (leaf.subjectAltName ?? '').split(/,\s*/).find((s) => s.startsWith('URI:'))?.slice(4) ?? '';
    return {
      certChainPem: certs.join(''),
      keyPem,
      rootPem,
      serial: leaf.serialNumber.toLowerCase(),
      notBefore: new Date(leaf.validFrom),
      notAfter: new Date(leaf.validTo),
      spiffeId: uri,
      receivedAt: this.#o.clock.now(),
    };
  }
}

/** The agent for a proxy's identity options; the CA defaults to the proxy's xDS server (Istio's CA_ADDR). */
export function workloadAgentFor(
  identity: ProxyIdentityOptions,
  xdsAddress: string,
  deps: Pick<WorkloadAgentOptions, 'clock' | 'random' | 'logger' | 'onChange'>,
): WorkloadAgent {
  return new WorkloadAgent({
    caAddress: identity.caAddress ?? xdsAddress,
    token: identity.token,
    ...(identity.requestedSan !== undefined ? { requestedSan: identity.requestedSan } : {}),
    ...(identity.certTtlSeconds !== undefined ? { certTtlSeconds: identity.certTtlSeconds } : {}),
    ...deps,
  });
}
