// Checks of SDS Secrets as the proxy receives them over ADS: a certificate needs its chain and private key
// and a validation context its trusted CA, each as inline data (this proxy reads no files for SDS), and
// each must parse and belong together. Envoy rejects the same updates when it builds the TLS context from
// them (source/common/tls/context_config_impl.cc, "Failed to load certificate chain / private key"), which
// makes the SDS update a NACK. Problems name the field only: secret values never appear in a message.

import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { DataSource } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { Secret } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';

/** The text of an inline DataSource (inline_bytes as UTF-8, inline_string); undefined for others or unset. */
export function inlineText(ds: DataSource | undefined): string | undefined {
  const s = ds?.specifier;
  if (s?.case === 'inlineString') return s.value;
  if (s?.case === 'inlineBytes') return Buffer.from(s.value).toString('utf8');
  return undefined;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The text of a required inline DataSource, or undefined with the problem pushed. */
function requiredText(ds: DataSource | undefined, path: string, out: string[]): string | undefined {
  const c = ds?.specifier.case;
  if (c === undefined) {
    out.push(`${path}: must be set`);
    return undefined;
  }
  if (c !== 'inlineBytes' && c !== 'inlineString') {
    out.push(`${path}: ${c === 'filename' ? 'filename' : 'environment_variable'} is not supported by this proxy (use inline_bytes or inline_string)`);
    return undefined;
  }
  const text = inlineText(ds);
  if (text === undefined || text.trim() === '') {
    out.push(`${path}: must not be empty`);
    return undefined;
  }
  return text;
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function certificateProblems(secret: Extract<Secret['type'], { case: 'tlsCertificate' }>['value'], out: string[]): void {
  if (secret.privateKeyProvider !== undefined) out.push('tls_certificate.private_key_provider: is not supported by this proxy');
  const chain = requiredText(secret.certificateChain, 'tls_certificate.certificate_chain', out);
  const key = requiredText(secret.privateKey, 'tls_certificate.private_key', out);
  let leaf: X509Certificate | undefined;
  if (chain !== undefined) {
    try {
      leaf = new X509Certificate(chain);
    } catch (e) {
      out.push(`tls_certificate.certificate_chain: not a PEM certificate (${reason(e)})`);
    }
  }
  if (key === undefined) return;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    out.push(`tls_certificate.private_key: not a PEM private key (${reason(e)})`);
    return;
  }
  if (leaf !== undefined && !leaf.checkPrivateKey(privateKey)) out.push('tls_certificate.private_key: does not match the first certificate of certificate_chain');
}

function trustedCaProblems(ds: DataSource | undefined, out: string[]): void {
  const text = requiredText(ds, 'validation_context.trusted_ca', out);
  if (text === undefined) return;
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) out.push('validation_context.trusted_ca: contains no PEM certificate');
  blocks.forEach((b, i) => {
    try {
      new X509Certificate(b);
    } catch (e) {
      out.push(`validation_context.trusted_ca: certificate ${i}: not a valid certificate (${reason(e)})`);
    }
  });
}

/** Every problem of a Secret, `<field path>: <reason>`. Session ticket keys and generic secrets are kept unchecked (unused here). */
export function secretProblems(s: Secret): string[] {
  const out: string[] = [];
  if (s.name === '') out.push('name: must not be empty');
  switch (s.type.case) {
    case 'tlsCertificate':
      certificateProblems(s.type.value, out);
      break;
    case 'validationContext':
      trustedCaProblems(s.type.value.trustedCa, out);
      break;
    case 'sessionTicketKeys':
    case 'genericSecret':
      break;
    case undefined:
      out.push('type: one of tls_certificate, session_ticket_keys, validation_context or generic_secret must be set');
      break;
  }
  return out;
}

/**
 * When each TLS certificate among `secrets`, and the workload certificate `own`, stops being valid (the leaf's
 * notAfter, ms since the epoch), for Envoy's server.days_until_first_cert_expiring. A certificate that does not
 * parse is left out (its secret was refused when it arrived).
 */
export function certificateExpiries(secrets: Iterable<Secret>, own?: Date): number[] {
  const out: number[] = own !== undefined ? [own.getTime()] : [];
  for (const s of secrets) {
    if (s.type.case !== 'tlsCertificate') continue;
    const chain = inlineText(s.type.value.certificateChain);
    if (chain === undefined) continue;
    try {
      out.push(new Date(new X509Certificate(chain).validTo).getTime());
    } catch {
      // refused at validation; nothing to count
    }
  }
  return out;
}
