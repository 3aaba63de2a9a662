// Creates a key and a PKCS#10 CSR for a workload identity, as istio-agent does before calling the CA.
// Lives in src/ca for now; the proxy may not import src/ca, so the data plane will build its CSRs with
// @peculiar/x509 directly (its own small helper under src/proxy) rather than share this file.
// Asynchronous because it signs through WebCrypto (node's `webcrypto`, passed explicitly).

import { KeyObject, webcrypto } from 'node:crypto';
import { Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension } from './x509.js';
import type { CaKeyType } from './root-ca.js';

export interface CsrOptions {
  /** The URI SAN to ask for, e.g. `spiffe://cluster.local/ns/default/sa/reviews`. The CA may ignore it. */
  readonly uri: string;
  readonly keyType?: CaKeyType;
}

export async function createCsr(opts: CsrOptions): Promise<{ csrPem: string; keyPem: string }> {
  const rsa = opts.keyType === 'RSA-2048';
  const algorithm = rsa
    ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 }
    : { name: 'ECDSA', namedCurve: 'P-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const csr = await Pkcs10CertificateRequestGenerator.create(
    {
      keys,
      signingAlgorithm: rsa ? algorithm : { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new SubjectAlternativeNameExtension([{ type: 'url', value: opts.uri }])],
    },
    webcrypto as unknown as Parameters<typeof Pkcs10CertificateRequestGenerator.create>[1],
  );
  const keyPem = KeyObject.from(keys.privateKey).export({ format: 'pem', type: 'pkcs8' }).toString();
  return { csrPem: csr.toString('pem'), keyPem };
}
