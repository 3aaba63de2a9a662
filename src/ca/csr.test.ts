import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { createCsr } from './csr.js';
import { Pkcs10CertificateRequest, SubjectAlternativeNameExtension } from './x509.js';

describe('createCsr', () => {
  for (const keyType of ['ECDSA-P256', 'RSA-2048'] as const) {
    it(`makes a self-signed ${keyType} CSR asking for the URI SAN, with its key`, async () => {
      const uri = 'spiffe://cluster.local/ns/default/sa/reviews';
      const { csrPem, keyPem } = await createCsr({ uri, keyType });
      const csr = new Pkcs10CertificateRequest(csrPem);
      assert.equal(await csr.verify(webcrypto as unknown as Parameters<typeof csr.verify>[0]), true);
      const san = csr.getExtension('2.5.29.17') // subjectAltName;
      assert.ok(san !== null);
      assert.deepEqual(new SubjectAlternativeNameExtension(san.rawData).names.toJSON(), [{ type: 'url', value: uri }]);
      const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ format: 'der', type: 'spki' });
      assert.deepEqual(fromKey, Buffer.from(csr.publicKey.rawData));
    });
  }
});
