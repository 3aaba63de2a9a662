// The bench's TLS shape serves one throwaway certificate from every proxy: EC P-256, self-signed, one day,
// made with the openssl command line (Debian's openssl, which nginx and HAProxy link) into the bench's temp
// folder. wrk does not verify certificates, so no CA is involved.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchCert {
  readonly certFile: string;
  readonly keyFile: string;
  /** Certificate then key in one file, as HAProxy's `crt` wants. */
  readonly pemFile: string;
  readonly cert: string;
  readonly key: string;
}

/** Makes the certificate in `dir` (which must exist); throws with openssl's output when it cannot. */
export function makeBenchCert(dir: string, cn = 'bench.example.com'): BenchCert {
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  const pemFile = join(dir, 'tls.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  writeFileSync(pemFile, cert + key);
  return { certFile, keyFile, pemFile, cert, key };
}
