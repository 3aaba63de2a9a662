// `proxy-config secret`: istioctl's RESOURCE NAME TYPE STATUS VALID CERT SERIAL NUMBER NOT AFTER NOT BEFORE
// table (istioctl/pkg/writer/compare/sds/util.go and writer.go) from the dump's SecretsConfigDump: warming
// secrets, then active ones; each secret's certificate chain (or, for a root, its trusted CA, or each trust
// domain's bundle of a SPIFFE validator) is parsed with node:crypto. TYPE is `CA` or `Cert Chain`; VALID CERT
// is whether `now` lies within the validity period; dates are RFC 3339 in UTC. A TRUST DOMAIN column is
// added when every secret has one (trust domain federation).

import { X509Certificate } from 'node:crypto';
import type { ConfigDump, Table } from './config-dump.js';
import { field, list, obj, str, type JsonObject } from './json-fields.js';

const SPIFFE_VALIDATOR = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig';

export interface SecretItem {
  readonly resource_name: string;
  /** ACTIVE, WARMING, or UNINITIALIZED for an active secret still at version `uninitialized`. */
  readonly state: string;
  /** `CA`, `Cert Chain`, or "" when there is no parsable certificate. */
  readonly type: string;
  readonly cert_valid: boolean;
  readonly serial_number: string;
  readonly not_after: string;
  readonly not_before: string;
  readonly trust_domain: string;
}

/** A DataSource's bytes as text: inline_bytes is base64 in JSON; inline_string is the text itself. */
function dataSourceText(ds: JsonObject | undefined): string {
  const bytes = field(ds, 'inline_bytes');
  if (typeof bytes === 'string' && bytes !== '') return Buffer.from(bytes, 'base64').toString('utf8');
  return str(ds, 'inline_string');
}

function rfc3339(date: string): string {
  const t = Date.parse(date);
  return Number.isNaN(t) ? date : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The first certificate of `pem` described as istioctl does; undefined when it cannot be parsed. */
function describeCert(pem: string, now: number, trustDomain: string): Omit<SecretItem, 'resource_name' | 'state'> | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return undefined;
  }
  let td = trustDomain;
  if (td === '') {
    for (const san of (cert.subjectAltName ?? '').split(', ')) {
      const m = /^URI:spiffe:\/\/([^/]*)/.exec(san);
      if (m !== null) td = m[1] ?? '';
    }
  }
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  return {
    type: cert.ca ? 'CA' : 'Cert Chain',
    cert_valid: now > notBefore && now < notAfter,
    // Go's %032x of the serial: lower-case hex, zero-padded to 32 digits.
    serial_number: BigInt(`0x${cert.serialNumber}`).toString(16).padStart(32, '0'),
    not_after: rfc3339(cert.validTo),
    not_before: rfc3339(cert.validFrom),
    trust_domain: td,
  };
}

function item(name: string, state: string, pem: string, now: number, trustDomain = ''): SecretItem {
  const meta = pem === '' ? undefined : describeCert(pem, now, trustDomain);
  return meta !== undefined
    ? { resource_name: name, state, ...meta }
    : { resource_name: name, state, type: '', cert_valid: false, serial_number: '', not_after: '', not_before: '', trust_domain: trustDomain };
}

function secretItemsOf(dynamic: JsonObject, state: string, now: number): SecretItem[] {
  const name = str(dynamic, 'name');
  const secret = obj(dynamic, 'secret');
  const chain = dataSourceText(obj(obj(secret, 'tls_certificate'), 'certificate_chain'));
  if (chain !== '') return [item(name, state, chain, now)];
  const validation = obj(secret, 'validation_context');
  const ca = dataSourceText(obj(validation, 'trusted_ca'));
  if (ca !== '') return [item(name, state, ca, now)];
  const custom = obj(obj(validation, 'custom_validator_config'), 'typed_config');
  if (custom?.['@type'] === SPIFFE_VALIDATOR) {
    return list(custom, 'trust_domains').map((td) => item(name, state, dataSourceText(obj(td, 'trust_bundle')), now, str(td, 'name')));
  }
  return [item(name, state, '', now)];
}

/** The secrets of the dump, warming then active; undefined when the dump has no SecretsConfigDump. */
export function secretItems(d: ConfigDump, now: number): SecretItem[] | undefined {
  const section = d.section('secrets');
  if (section === undefined) return undefined;
  const warming = list(section, 'dynamic_warming_secrets').flatMap((s) => secretItemsOf(s, 'WARMING', now));
  const active = list(section, 'dynamic_active_secrets').flatMap((s) =>
    // istioctl means to mark a secret still at version "uninitialized" so (its loop edits a copy).
    secretItemsOf(s, str(s, 'version_info') === 'uninitialized' ? 'UNINITIALIZED' : 'ACTIVE', now),
  );
  return [...warming, ...active];
}

export function secretTable(items: readonly SecretItem[], withName = false): Table {
  const federated = items.length > 0 && items.every((s) => s.trust_domain !== '');
  const headers = ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE', ...(federated ? ['TRUST DOMAIN'] : [])];
  const rows = items.map((s) => [
    withName ? `secret/${s.resource_name}` : s.resource_name,
    s.type,
    s.state,
    String(s.cert_valid),
    s.serial_number,
    s.not_after,
    s.not_before,
    ...(federated ? [s.trust_domain] : []),
  ]);
  return { headers, rows };
}
