// The secret table on an Envoy-shaped SecretsConfigDump holding throwaway certificates made with openssl
// (never committed): a SPIFFE workload certificate, a root CA, a warming secret, a SPIFFE validator's trust
// bundles and bytes that are no certificate.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigDump, type ConfigDump } from './config-dump.js';
import { secretItems, secretTable } from './secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'isthmus-pc-certs-'));
const DAY = 86_400_000;

function cert(name: string, serial: string, extensions: string[]): string {
  const out = join(dir, `${name}.pem`);
  const ext = extensions.flatMap((e) => ['-addext', e]);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-set_serial', serial, ...ext, '-keyout', join(dir, `${name}.key`), '-out', out], { stdio: 'pipe' });
  return readFileSync(out, 'utf8');
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
let leaf = '';
let root = '';
let dump: ConfigDump;

before(() => {
  leaf = cert('leaf', '0xabc123', ['basicConstraints=critical,CA:FALSE', 'subjectAltName=URI:spiffe://cluster.local/ns/default/sa/productpage']);
  root = cert('root', '0x01', []);
  const d = parseConfigDump({
    configs: [
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
        dynamic_active_secrets: [
          { name: 'default', version_info: '2024-01-01T00:00:00Z', secret: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', name: 'default', tls_certificate: { certificate_chain: { inline_bytes: b64(leaf) }, private_key: { inline_string: '[redacted]' } } } },
          { name: 'ROOTCA', version_info: '2024-01-01T00:00:00Z', secret: { name: 'ROOTCA', validation_context: { trusted_ca: { inline_bytes: b64(root) } } } },
          { name: 'broken', version_info: 'uninitialized', secret: { name: 'broken', tls_certificate: { certificate_chain: { inline_string: 'not a certificate' } } } },
        ],
        dynamic_warming_secrets: [{ name: 'file-cert:/etc/certs/a.pem', secret: { name: 'file-cert:/etc/certs/a.pem', tls_certificate: { certificate_chain: { inline_bytes: b64(leaf) } } } }],
      },
    ],
  });
  assert.ok(d !== undefined);
  dump = d;
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('secret', () => {
  it('lists warming then active secrets with type, validity, serial and RFC 3339 dates', () => {
    const now = Date.now();
    const t = secretTable(secretItems(dump, now) ?? []);
    assert.deepEqual(t.headers, ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE']);
    assert.deepEqual(
      t.rows.map((r) => r.slice(0, 5)),
      [
        ['file-cert:/etc/certs/a.pem', 'Cert Chain', 'WARMING', 'true', '00000000000000000000000000abc123'],
        ['default', 'Cert Chain', 'ACTIVE', 'true', '00000000000000000000000000abc123'],
        ['ROOTCA', 'CA', 'ACTIVE', 'true', '00000000000000000000000000000001'],
        ['broken', '', 'UNINITIALIZED', 'false', ''],
      ],
    );
    const [, , , , , notAfter = '', notBefore = ''] = t.rows[1] ?? [];
    assert.match(notAfter, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(Date.parse(notAfter) - Date.parse(notBefore), DAY, 'openssl -days 1');
    assert.ok(Date.parse(notBefore) <= now && now < Date.parse(notAfter));
  });

  it('reports a certificate past its NOT AFTER as not valid', () => {
    const items = secretItems(dump, Date.now() + 2 * DAY) ?? [];
    assert.deepEqual(
      items.map((s) => [s.resource_name, s.cert_valid]),
      [
        ['file-cert:/etc/certs/a.pem', false],
        ['default', false],
        ['ROOTCA', false],
        ['broken', false],
      ],
    );
  });

  it("adds TRUST DOMAIN when every secret has one (a SPIFFE validator's bundles, SPIFFE certificates)", () => {
    const d = parseConfigDump({
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
          dynamic_active_secrets: [
            { name: 'default', secret: { tls_certificate: { certificate_chain: { inline_bytes: b64(leaf) } } } },
            {
              name: 'ROOTCA',
              secret: {
                validation_context: {
                  custom_validator_config: {
                    typed_config: {
                      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig',
                      trust_domains: [
                        { name: 'cluster.local', trust_bundle: { inline_bytes: b64(root) } },
                        { name: 'partner.example', trust_bundle: { inline_bytes: b64(root) } },
                      ],
                    },
                  },
                },
              },
            },
          ],
        },
      ],
    });
    assert.ok(d !== undefined);
    const t = secretTable(secretItems(d, Date.now()) ?? [], true);
    assert.equal(t.headers.at(-1), 'TRUST DOMAIN');
    assert.deepEqual(
      t.rows.map((r) => [r[0], r[1], r.at(-1)]),
      [
        ['secret/default', 'Cert Chain', 'cluster.local'],
        ['secret/ROOTCA', 'CA', 'cluster.local'],
        ['secret/ROOTCA', 'CA', 'partner.example'],
      ],
    );
  });

  it('has nothing to list when the dump has no SecretsConfigDump', () => {
    const d = parseConfigDump({ configs: [] });
    assert.ok(d !== undefined);
    assert.equal(secretItems(d, Date.now()), undefined);
  });
});
