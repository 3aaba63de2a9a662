// SDS secrets as the proxy receives them: every problem of a Secret is listed by field (never with its
// value), and only the names a TLS context asks ADS for are subscribed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { SecretSchema, type Secret } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { ApiConfigSource_ApiType, type ConfigSourceSchema } from '../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema, type CommonTlsContextSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { SECRET_TYPE } from '../../xds/type-urls.js';
import { selfSigned } from '../../../test/translate/secret/certs.js';
import { decodeResource } from './validate.js';
import { sdsNamesOf } from './secret-names.js';

const a = selfSigned('a.example.com');
const b = selfSigned('b.example.com');
const bytes = (x: Buffer | string) => ({ specifier: { case: 'inlineBytes' as const, value: Buffer.from(x) } });

function problemsOf(s: Secret): string[] {
  const d = decodeResource(SECRET_TYPE, anyPack(SecretSchema, s), 0);
  return d.ok ? [] : d.problems;
}

describe('SDS secret validation', () => {
  const cases: { name: string; secret: Secret; problems: string[] }[] = [
    { name: 'a certificate with its key', secret: create(SecretSchema, { name: 's', type: { case: 'tlsCertificate', value: { certificateChain: bytes(a.cert), privateKey: { specifier: { case: 'inlineString', value: a.key.toString() } } } } }), problems: [] },
    { name: 'a trusted CA', secret: create(SecretSchema, { name: 's', type: { case: 'validationContext', value: { trustedCa: bytes(Buffer.concat([a.cert, b.cert])) } } }), problems: [] },
    {
      name: 'neither chain nor key',
      secret: create(SecretSchema, { name: 's', type: { case: 'tlsCertificate', value: {} } }),
      problems: ['s: tls_certificate.certificate_chain: must be set', 's: tls_certificate.private_key: must be set'],
    },
    {
      name: 'files and a key of another certificate',
      secret: create(SecretSchema, { name: 's', type: { case: 'tlsCertificate', value: { certificateChain: { specifier: { case: 'filename', value: '/etc/c.pem' } }, privateKey: bytes(b.key) } } }),
      problems: ['s: tls_certificate.certificate_chain: filename is not supported by this proxy (use inline_bytes or inline_string)'],
    },
    {
      name: 'a key that does not match',
      secret: create(SecretSchema, { name: 's', type: { case: 'tlsCertificate', value: { certificateChain: bytes(a.cert), privateKey: bytes(b.key) } } }),
      problems: ['s: tls_certificate.private_key: does not match the first certificate of certificate_chain'],
    },
    {
      name: 'a validation context without a usable CA',
      secret: create(SecretSchema, { name: 's', type: { case: 'validationContext', value: { trustedCa: bytes('not a certificate') } } }),
      problems: ['s: validation_context.trusted_ca: contains no PEM certificate'],
    },
    { name: 'no name, no type', secret: create(SecretSchema, {}), problems: ['resource index 0: name: must not be empty', 'resource index 0: type: one of tls_certificate, session_ticket_keys, validation_context or generic_secret must be set'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(problemsOf(c.secret), c.problems);
    });
  }

  it('never quotes a secret value', () => {
    const p = problemsOf(create(SecretSchema, { name: 's', type: { case: 'tlsCertificate', value: { certificateChain: bytes('-----BEGIN CERTIFICATE-----\nhunter2\n-----END CERTIFICATE-----\n'), privateKey: bytes('hunter2-key') } } }));
    assert.equal(p.length, 2);
    assert.ok(p.every((x) => !x.includes('hunter2')), p.join('\n'));
  });
});

describe('SDS names subscribed over ADS', () => {
  type Source = MessageInitShape<typeof ConfigSourceSchema>;
  const ads: Source = { configSourceSpecifier: { case: 'ads', value: {} } };
  const self: Source = { configSourceSpecifier: { case: 'self', value: {} } };
  const agent: Source = { configSourceSpecifier: { case: 'apiConfigSource', value: { apiType: ApiConfigSource_ApiType.GRPC, grpcServices: [{ targetSpecifier: { case: 'envoyGrpc', value: { clusterName: 'sds-grpc' } } }] } } };
  /** A TLS context whose certificate and CA come from SDS (`undefined` source: a static bootstrap secret). */
  const common = (cert: string, certSource: Source | undefined, ca: string, caSource: Source): MessageInitShape<typeof CommonTlsContextSchema> => ({
    tlsCertificateSdsSecretConfigs: [{ name: cert, ...(certSource !== undefined ? { sdsConfig: certSource } : {}) }],
    validationContextType: { case: 'combinedValidationContext', value: { defaultValidationContext: {}, validationContextSdsSecretConfig: { name: ca, sdsConfig: caSource } } },
  });
  const downstream = (c: MessageInitShape<typeof CommonTlsContextSchema>) => ({
    name: 'envoy.transport_sockets.tls',
    configType: { case: 'typedConfig' as const, value: anyPack(DownstreamTlsContextSchema, create(DownstreamTlsContextSchema, { commonTlsContext: c })) },
  });
  const upstream = (c: MessageInitShape<typeof CommonTlsContextSchema>) => ({
    name: 'envoy.transport_sockets.tls',
    configType: { case: 'typedConfig' as const, value: anyPack(UpstreamTlsContextSchema, create(UpstreamTlsContextSchema, { commonTlsContext: c })) },
  });

  it('takes ADS (and self) names from listeners and clusters, not the node agent’s or static ones', () => {
    const listener = create(ListenerSchema, {
      name: 'gw',
      filterChains: [{ transportSocket: downstream(common('kubernetes://web', ads, 'kubernetes://web-cacert', ads)) }],
      defaultFilterChain: { transportSocket: downstream(common('static-cert', undefined, 'kubernetes://self-ca', self)) },
    });
    const cluster = create(ClusterSchema, {
      name: 'c',
      transportSocket: upstream(common('kubernetes://client', ads, 'ROOTCA', agent)),
      transportSocketMatches: [{ name: 'tlsMode-istio', transportSocket: upstream(common('default', agent, 'ROOTCA', agent)) }],
    });
    assert.deepEqual(sdsNamesOf([listener], [cluster]), ['kubernetes://client', 'kubernetes://self-ca', 'kubernetes://web', 'kubernetes://web-cacert']);
  });
});
