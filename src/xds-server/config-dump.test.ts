import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { SecretSchema } from '../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { toDumpJson } from '../xds/codec.js';
import { redactSecret } from './config-dump.js';

describe('config_dump secrets', () => {
  it('redact private keys and passwords as Envoy does, keeping certificates', () => {
    const secret = create(SecretSchema, {
      name: 'kubernetes://web',
      type: {
        case: 'tlsCertificate',
        value: {
          certificateChain: { specifier: { case: 'inlineBytes', value: Buffer.from('-----BEGIN CERTIFICATE-----') } },
          privateKey: { specifier: { case: 'inlineBytes', value: Buffer.from('-----BEGIN PRIVATE KEY----- top secret') } },
          password: { specifier: { case: 'inlineString', value: 'hunter2' } },
        },
      },
    });
    const dumped = JSON.stringify(redactSecret(toDumpJson(SecretSchema, secret)));
    assert.doesNotMatch(dumped, /top secret|hunter2/);
    assert.doesNotMatch(dumped, new RegExp(Buffer.from('-----BEGIN PRIVATE KEY----- top secret').toString('base64')));
    assert.match(dumped, /"privateKey":\{"inlineBytes":"W3JlZGFjdGVkXQ=="\}/);
    assert.match(dumped, /"password":\{"inlineString":"\[redacted\]"\}/);
    assert.match(dumped, new RegExp(Buffer.from('-----BEGIN CERTIFICATE-----').toString('base64')), 'the certificate chain is not a secret');
  });
});
