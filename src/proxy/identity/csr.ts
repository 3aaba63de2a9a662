// A fresh key pair and PKCS#10 request for the workload certificate, made inside the proxy so the private key
// never leaves it (istio-agent's job). ECDSA P-256, Istio's default for workload keys (ECC_SIGNATURE_ALGORITHM
// is RSA 2048 by default in Istio; P-256 is smaller and faster, and every CA Isthmus talks to accepts it).
// @peculiar/x509 and its Reflect polyfill load on first use: proxies without mTLS never pay for them.

import { KeyObject, webcrypto } from 'node:crypto';

type X509 = typeof import('@peculiar/x509');
let x509: Promise<X509> | undefined;

function load(): Promise<X509> {
  x509 ??= (async () => {
    // The library resolves algorithms through tsyringe, which needs the Reflect metadata polyfill first.
    await import('reflect-metadata');
    const m = await import('@peculiar/x509');
    m.cryptoProvider.set(webcrypto as unknown as Parameters<typeof m.cryptoProvider.set>[0]);
    return m;
  })();
  return x509;
}

export interface KeyAndCsr {
  readonly keyPem: string;
  readonly csrPem: string;
}

/** A new key and a CSR asking for `uri` (the CA decides the identity from the caller's token regardless). */
export async function createKeyAndCsr(uri: string | undefined): Promise<KeyAndCsr> {
  const m = await load();
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const csr = await m.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    ...(uri !== undefined ? { extensions: [new m.SubjectAlternativeNameExtension([{ type: 'url', value: uri }])] } : {}),
  });
  return { keyPem: KeyObject.from(keys.privateKey).export({ format: 'pem', type: 'pkcs8' }).toString(), csrPem: csr.toString('pem') };
}
