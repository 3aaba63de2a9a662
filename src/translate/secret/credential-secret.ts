// One SDS Secret from a Kubernetes Secret, as Istio's pilot/pkg/xds/sds.go generate and
// pilot/pkg/credentials/kube/secrets.go build it:
// - a certificate (`kubernetes://<name>`): `cert`/`key` (generic), else `tls.crt`/`tls.key` (with
//   `tls.ocsp-staple`), as tls_certificate inline bytes (ExtractCertInfo, toEnvoyTLSSecret);
// - a CA bundle (`...-cacert`): the Secret `<name>-cacert`, else `<name>` itself; `cacert` (generic) else
//   `ca.crt`, with `crl` / `ca.crl`, as validation_context trusted_ca (GetCaCert, ExtractRoot,
//   toEnvoyCaSecret).
// Errors use Istio's wording and name keys, never values. The certificate is checked as ValidateCertificate
// does (PEM, then X.509) except for its validity period: translation reads no clock.

import { X509Certificate } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type { MeshSnapshot, SecretView } from '../../model/snapshot.js';
import { DataSourceSchema, type DataSource } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { CertificateValidationContextSchema, TlsCertificateSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { SecretSchema, type Secret } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { CA_SUFFIX } from './credential-name.js';

const GENERIC_CERT = 'cert';
const GENERIC_KEY = 'key';
const GENERIC_CA = 'cacert';
const GENERIC_CRL = 'crl';
const TLS_CERT = 'tls.crt';
const TLS_KEY = 'tls.key';
const TLS_OCSP = 'tls.ocsp-staple';
const TLS_CA = 'ca.crt';
const TLS_CRL = 'ca.crl';

export type SecretOutcome =
  | { readonly ok: true; readonly secret: Secret; readonly warning?: string }
  | { readonly ok: false; readonly error: string };

function bytes(s: SecretView, key: string): Uint8Array | undefined {
  const v = s.data[key];
  return v === undefined ? undefined : new Uint8Array(Buffer.from(v, 'base64'));
}

const hasKeys = (s: SecretView, ...keys: string[]): boolean => keys.every((k) => s.data[k] !== undefined);
const hasValues = (s: SecretView, ...keys: string[]): boolean => keys.every((k) => (bytes(s, k)?.length ?? 0) > 0);

/** truncatedKeysMessage: the first three keys, sorted. */
function foundKeys(s: SecretView): string {
  const keys = Object.keys(s.data).sort();
  return keys.length < 3 ? keys.join(', ') : `${keys.slice(0, 3).join(', ')}, and ${keys.length - 3} more...`;
}

function inline(b: Uint8Array): DataSource {
  return create(DataSourceSchema, { specifier: { case: 'inlineBytes', value: b } });
}

/** ValidateCertificate without the clock: the first PEM block must hold X.509 certificates. */
export function certificateProblem(pem: Uint8Array): string | undefined {
  const text = Buffer.from(pem).toString('latin1');
  const m = /-----BEGIN ([^-\r\n]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (m === null) return 'pem decode failed';
  try {
    new X509Certificate(Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64'));
    return undefined;
  } catch {
    return 'x509: malformed certificate';
  }
}

function withCheck(secret: Secret, cert: Uint8Array, where: string): SecretOutcome {
  const problem = certificateProblem(cert);
  return problem === undefined ? { ok: true, secret } : { ok: true, secret, warning: `invalid certificates: ${where}: ${problem}` };
}

/** ExtractCertInfo + toEnvoyTLSSecret. */
function certificateSecret(resourceName: string, s: SecretView): SecretOutcome {
  let cert: Uint8Array | undefined;
  let key: Uint8Array | undefined;
  let staple: Uint8Array | undefined;
  if (hasValues(s, GENERIC_CERT, GENERIC_KEY)) {
    cert = bytes(s, GENERIC_CERT);
    key = bytes(s, GENERIC_KEY);
  } else if (hasValues(s, TLS_CERT, TLS_KEY)) {
    cert = bytes(s, TLS_CERT);
    key = bytes(s, TLS_KEY);
    staple = bytes(s, TLS_OCSP);
  }
  if (cert === undefined || key === undefined) {
    const why = hasKeys(s, GENERIC_CERT, GENERIC_KEY)
      ? `found keys "${GENERIC_CERT}" and "${GENERIC_KEY}", but they were empty`
      : hasKeys(s, TLS_CERT, TLS_KEY)
        ? `found keys "${TLS_CERT}" and "${TLS_KEY}", but they were empty`
        : `found secret, but didn't have expected keys (${GENERIC_CERT} and ${GENERIC_KEY}) or (${TLS_CERT} and ${TLS_KEY}); found: ${foundKeys(s)}`;
    return { ok: false, error: `failed to fetch key and certificate for ${resourceName}: ${why}` };
  }
  const tlsCertificate = create(TlsCertificateSchema, {
    certificateChain: inline(cert),
    privateKey: inline(key),
    ...(staple !== undefined && staple.length > 0 ? { ocspStaple: inline(staple) } : {}),
  });
  const secret = create(SecretSchema, { name: resourceName, type: { case: 'tlsCertificate', value: tlsCertificate } });
  return withCheck(secret, cert, `${s.namespace}/${s.name} ${JSON.stringify(resourceName)}`);
}

/** ExtractRoot + toEnvoyCaSecret. */
function caSecret(resourceName: string, s: SecretView): SecretOutcome {
  let ca: Uint8Array | undefined;
  let crl: Uint8Array | undefined;
  if (hasValues(s, GENERIC_CA)) {
    ca = bytes(s, GENERIC_CA);
    crl = bytes(s, GENERIC_CRL);
  } else if (hasValues(s, TLS_CA)) {
    ca = bytes(s, TLS_CA);
    crl = bytes(s, TLS_CRL);
  }
  if (ca === undefined) {
    const why = hasKeys(s, GENERIC_CA)
      ? `found key "${GENERIC_CA}", but it was empty`
      : hasKeys(s, TLS_CA)
        ? `found key "${TLS_CA}", but it was empty`
        : `found secret, but didn't have expected keys ${GENERIC_CA} or ${TLS_CA}; found: ${foundKeys(s)}`;
    return { ok: false, error: `failed to fetch ca certificate for ${resourceName}: ${why}` };
  }
  const validationContext = create(CertificateValidationContextSchema, { trustedCa: inline(ca), ...(crl !== undefined ? { crl: inline(crl) } : {}) });
  const secret = create(SecretSchema, { name: resourceName, type: { case: 'validationContext', value: validationContext } });
  return withCheck(secret, ca, `${s.namespace}/${s.name} ${JSON.stringify(resourceName)}`);
}

/** The Secret `resourceName` names (`name` in `namespace`), from the snapshot. */
export function credentialSecret(snapshot: MeshSnapshot, resourceName: string, namespace: string, name: string, caOnly: boolean): SecretOutcome {
  if (caOnly) {
    // GetCaCert: the `-cacert` Secret itself, else the Secret without the suffix.
    const stripped = name.slice(0, -CA_SUFFIX.length);
    const s = snapshot.secret(namespace, name) ?? snapshot.secret(namespace, stripped);
    if (s === undefined) return { ok: false, error: `failed to fetch ca certificate for ${resourceName}: secret ${namespace}/${stripped} not found` };
    return caSecret(resourceName, s);
  }
  const s = snapshot.secret(namespace, name);
  if (s === undefined) return { ok: false, error: `failed to fetch key and certificate for ${resourceName}: secret ${namespace}/${name} not found` };
  return certificateSecret(resourceName, s);
}
