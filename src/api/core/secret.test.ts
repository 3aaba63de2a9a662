import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { decodeStdBase64, SECRET, secretData } from './secret.js';

const K = [SECRET];
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const secret = (rest: string, meta = '{name: bookinfo-credential, namespace: istio-system}'): string => `apiVersion: v1\nkind: Secret\nmetadata: ${meta}\n${rest}`;

// Values that must never show up in an issue.
const SENSITIVE = 'hunter2-very-secret-value';

describe('Secret', () => {
  it('accepts a TLS secret as `kubectl create secret tls` writes it, an Opaque one and a stringData one', () => {
    expectValid(secret(`type: kubernetes.io/tls\ndata:\n  tls.crt: ${b64('-----BEGIN CERTIFICATE-----\n')}\n  tls.key: ${b64('-----BEGIN PRIVATE KEY-----\n')}\n  ca.crt: ""\n`), K);
    expectValid(secret(`data: {password: ${b64('x')}, KEY_NAME: "", key-name: ${b64('ab')}}\nimmutable: true\n`), K);
    expectValid(secret('type: kubernetes.io/tls\nstringData: {tls.crt: "pem", tls.key: "pem"}\n'), K);
    expectValid(secret('type: kubernetes.io/dockerconfigjson\nstringData: {.dockerconfigjson: \'{"auths":{}}\'}\n'), K);
  });

  it('merges stringData over data, decoded', () => {
    const data = secretData({ data: { a: b64('from-data'), b: b64('kept') }, stringData: { a: 'from-stringData' } });
    assert.equal(Buffer.from(data.get('a') ?? []).toString(), 'from-stringData');
    assert.equal(Buffer.from(data.get('b') ?? []).toString(), 'kept');
  });

  it('decodes base64 as Go StdEncoding does (CR/LF ignored, padding required) and reports Go`s offsets', () => {
    assert.deepEqual(decodeStdBase64('aGVs\nbG8='), { ok: true, bytes: new Uint8Array(Buffer.from('hello')) });
    assert.deepEqual(decodeStdBase64(''), { ok: true, bytes: new Uint8Array() });
    assert.deepEqual(decodeStdBase64('aGVsbG8'), { ok: false, offset: 4 }); // quantum without padding
    assert.deepEqual(decodeStdBase64('aGVs*G8='), { ok: false, offset: 4 });
    assert.deepEqual(decodeStdBase64('aGVsbA='), { ok: false, offset: 7 }); // one `=` where two are needed
    assert.deepEqual(decodeStdBase64('aGVsbG8=x'), { ok: false, offset: 8 }); // trailing garbage
    assert.deepEqual(decodeStdBase64('a==='), { ok: false, offset: 1 });
  });

  const invalid: { name: string; doc: string; path: string; message: string | RegExp }[] = [
    {
      name: 'a TLS secret without its key',
      doc: secret(`type: kubernetes.io/tls\ndata: {tls.crt: ${b64('c')}}\n`),
      path: 'data["tls.key"]',
      message: /^Required value$/,
    },
    {
      name: 'a TLS secret with neither key',
      doc: secret(`type: kubernetes.io/tls\ndata: {ca.crt: ${b64('c')}}\n`),
      path: 'data["tls.crt"]',
      message: /^Required value$/,
    },
    { name: 'a value that is not base64', doc: secret('data: {password: "not base64!"}\n'), path: 'data.password', message: 'illegal base64 data at input byte 3' },
    {
      name: 'a key that is not a config key',
      doc: secret(`data: {"my key": ${b64('x')}}\n`),
      path: 'data["my key"]',
      message: `Invalid value: "my key": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
    },
    { name: 'a key starting with ..', doc: secret('stringData: {..data: x}\n'), path: 'stringData["..data"]', message: "must not start with '..'" },
    { name: 'a service account token without its account', doc: secret('type: kubernetes.io/service-account-token\n'), path: 'metadata.annotations["kubernetes.io/service-account.name"]', message: 'Required value' },
    { name: 'basic auth with neither username nor password', doc: secret('type: kubernetes.io/basic-auth\n'), path: 'data.username', message: 'Required value' },
    { name: 'docker config that is not a JSON object', doc: secret(`type: kubernetes.io/dockerconfigjson\ndata: {.dockerconfigjson: ${b64('[1]')}}\n`), path: 'data[".dockerconfigjson"]', message: 'json: cannot unmarshal array into Go value of type map[string]interface {}' },
    { name: 'a value that is not a string', doc: secret('data: {password: 12345}\n'), path: 'data.password', message: 'must be a string' },
    { name: 'a spec (Secret has none)', doc: secret('spec: {type: Opaque}\n'), path: 'spec', message: 'unknown field "spec"' },
    { name: 'immutable as a string', doc: secret('immutable: "yes"\n'), path: 'immutable', message: 'must be a boolean' },
    { name: 'a name that is not a subdomain', doc: secret('', '{name: Bookinfo_Credential}'), path: 'metadata.name', message: 'a lowercase RFC 1123 subdomain' },
    { name: 'more than 1 MiB of data', doc: secret(`stringData: {a: ${'x'.repeat(1024 * 1024 + 1)}}\n`), path: 'data', message: 'Too long: must have at most 1048576 bytes' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(c.doc, K, [{ path: c.path, message: c.message }]));

  it('never quotes a secret value in an issue', () => {
    const docs = [
      secret(`data: {password: "${SENSITIVE}!"}\n`),
      secret(`data: {password: [${SENSITIVE}]}\n`),
      secret(`stringData: {password: {v: ${SENSITIVE}}}\n`),
      secret(`type: kubernetes.io/dockercfg\nstringData: {.dockercfg: "${SENSITIVE}"}\n`),
      secret(`type: kubernetes.io/dockercfg\ndata: {.dockercfg: ${b64(`{"a": ${SENSITIVE}}`)}}\n`),
    ];
    for (const d of docs) {
      const issues = expectInvalid(d, K, []);
      assert.ok(issues.length > 0);
      for (const i of issues) assert.ok(!i.message.includes('hunter2'), `issue quotes the value: ${i.path}: ${i.message}`);
    }
  });
});
