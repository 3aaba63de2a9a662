// Test support: throwaway certificates made with `openssl req -x509` once per test process (EC P-256, one
// day), never committed, plus helpers to put them in Kubernetes Secrets and to keep their bytes out of goldens.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  readonly cert: Buffer;
  readonly key: Buffer;
}

const made = new Map<string, TestCert>();

/** A self-signed certificate and its key for `cn` (memoized per process). */
export function selfSigned(cn: string): TestCert {
  const have = made.get(cn);
  if (have !== undefined) return have;
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-cert-'));
  try {
    const keyFile = join(dir, 'tls.key');
    const certFile = join(dir, 'tls.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
    const out = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
    made.set(cn, out);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');

/** A Secret manifest with `data` (values base64-encoded here). */
/**
 * A certificate for `cn` issued by `issuer` (a self-signed CA from selfSigned), for client-certificate checks;
 * `sans` (e.g. `DNS:a.example.com`, `URI:spiffe://td/ns/a/sa/b`) go in its subjectAltName.
 */
export function signedBy(cn: string, issuer: TestCert, sans: readonly string[] = []): TestCert {
  const key = `${cn}|${sans.join(',')}|${issuer.cert.toString('base64').slice(-32)}`;
  const have = made.get(key);
  if (have !== undefined) return have;
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-cert-'));
  try {
    const f = (n: string): string => join(dir, n);
    writeFileSync(f('ca.crt'), issuer.cert);
    writeFileSync(f('ca.key'), issuer.key);
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f('tls.key'), '-out', f('tls.csr')], { stdio: 'pipe' });
    if (sans.length > 0) writeFileSync(f('ext.cnf'), `subjectAltName=${sans.join(',')}\n`);
    execFileSync('openssl', ['x509', '-req', '-in', f('tls.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-out', f('tls.crt'), ...(sans.length > 0 ? ['-extfile', f('ext.cnf')] : [])], { stdio: 'pipe' });
    const out = { cert: readFileSync(f('tls.crt')), key: readFileSync(f('tls.key')) };
    made.set(key, out);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A CRL (PEM) signed by `issuer` that revokes `revoked` (certificates `issuer` issued), valid for a day. */
export function crlRevoking(issuer: TestCert, revoked: readonly TestCert[]): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-crl-'));
  try {
    const f = (n: string): string => join(dir, n);
    writeFileSync(f('ca.crt'), issuer.cert);
    writeFileSync(f('ca.key'), issuer.key);
    writeFileSync(f('index.txt'), '');
    writeFileSync(f('crlnumber'), '01\n');
    writeFileSync(
      f('ca.cnf'),
      `[ca]\ndefault_ca = d\n[d]\ndatabase = ${f('index.txt')}\ncrlnumber = ${f('crlnumber')}\ndefault_md = sha256\ndefault_crl_days = 1\n`,
    );
    const ca = ['-config', f('ca.cnf'), '-keyfile', f('ca.key'), '-cert', f('ca.crt')];
    revoked.forEach((r, i) => {
      writeFileSync(f(`r${i}.crt`), r.cert);
      execFileSync('openssl', ['ca', ...ca, '-revoke', f(`r${i}.crt`)], { stdio: 'pipe' });
    });
    execFileSync('openssl', ['ca', ...ca, '-gencrl', '-out', f('crl.pem')], { stdio: 'pipe' });
    return readFileSync(f('crl.pem'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function secretYaml(namespace: string, name: string, data: Readonly<Record<string, Buffer | string>>, type = 'kubernetes.io/tls'): string {
  const lines = Object.entries(data).map(([k, v]) => `  ${JSON.stringify(k)}: ${b64(v)}`);
  return `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: ${namespace}}\ntype: ${type}\ndata:\n${lines.join('\n')}\n---\n`;
}

/**
 * Replaces every string in `value` that is the base64 of one of `bytes` by its label, so goldens show which
 * Secret key a field carries without the (per-run) certificate and key.
 */
export function redactBytes<T>(value: T, bytes: Readonly<Record<string, Buffer>>): T {
  const labels = new Map(Object.entries(bytes).map(([label, b]) => [b64(b), `<${label}>`]));
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return labels.get(v) ?? v;
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
