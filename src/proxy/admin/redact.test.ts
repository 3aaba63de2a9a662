import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromJson, toJson, type DescMessage, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { SecretSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { DUMP_REGISTRY } from './dump-registry.js';
import { redacted } from './redact.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const KEY = '-----BEGIN PRIVATE KEY----- top secret';
const CERT = '-----BEGIN CERTIFICATE----- public';

function secret(json: JsonValue): MessageShape<typeof SecretSchema> {
  return fromJson(SecretSchema, json, { registry: XDS_REGISTRY });
}

interface Case {
  readonly name: string;
  readonly schema: DescMessage;
  readonly message: () => MessageShape<DescMessage>;
  /** The redacted message as proto JSON (proto field names). */
  readonly want: JsonValue;
}

const upstreamTls = {
  name: 'c',
  transport_socket: {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      common_tls_context: { tls_certificates: [{ certificate_chain: { inline_string: CERT }, private_key: { inline_string: KEY } }] },
    },
  },
};

const CASES: readonly Case[] = [
  {
    name: 'a TLS certificate: the key bytes become the bytes of [redacted], the password [redacted], the chain stays',
    schema: SecretSchema,
    message: () => secret({ name: 's', tls_certificate: { certificate_chain: { inline_bytes: b64(CERT) }, private_key: { inline_bytes: b64(KEY) }, password: { inline_string: 'hunter2' } } }),
    want: { name: 's', tls_certificate: { certificate_chain: { inline_bytes: b64(CERT) }, private_key: { inline_bytes: b64('[redacted]') }, password: { inline_string: '[redacted]' } } },
  },
  {
    name: 'a key named by an environment variable: the name is hidden too',
    schema: SecretSchema,
    message: () => secret({ name: 's', tls_certificate: { private_key: { environment_variable: 'TLS_KEY' } } }),
    want: { name: 's', tls_certificate: { private_key: { environment_variable: '[redacted]' } } },
  },
  {
    name: 'a generic secret',
    schema: SecretSchema,
    message: () => secret({ name: 'g', generic_secret: { secret: { inline_string: 'token' } } }),
    want: { name: 'g', generic_secret: { secret: { inline_string: '[redacted]' } } },
  },
  {
    name: 'a key inside an Any (a cluster transport socket) is redacted and repacked',
    schema: ClusterSchema,
    message: () => fromJson(ClusterSchema, upstreamTls, { registry: XDS_REGISTRY }),
    want: {
      ...upstreamTls,
      transport_socket: {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          common_tls_context: { tls_certificates: [{ certificate_chain: { inline_string: CERT }, private_key: { inline_string: '[redacted]' } }] },
        },
      },
    },
  },
  {
    name: 'a validation context has nothing sensitive',
    schema: SecretSchema,
    message: () => secret({ name: 'ca', validation_context: { trusted_ca: { inline_string: CERT } } }),
    want: { name: 'ca', validation_context: { trusted_ca: { inline_string: CERT } } },
  },
  {
    name: 'an Any of a type this build does not know is left as it is',
    schema: ClusterSchema,
    message: () =>
      create(ClusterSchema, {
        name: 'x',
        transportSocket: { name: 'custom', configType: { case: 'typedConfig', value: { typeUrl: 'type.googleapis.com/acme.Secretive', value: new Uint8Array([10, 1, 65]) } } },
      }),
    want: { name: 'x', transport_socket: { name: 'custom', typed_config: { '@type': 'type.googleapis.com/acme.Secretive' } } },
  },
  {
    name: "Istio's Wasm image pull secret in a plugin's VM environment; the other entries stay",
    schema: ListenerSchema,
    message: () => fromJson(ListenerSchema, wasmListener('{"auths":{"r":{"auth":"dXNlcjpwYXNz"}}}'), { registry: XDS_REGISTRY }),
    want: wasmListener('[redacted]'),
  },
];

/** A listener with one HTTP Wasm plugin whose VM environment carries a pull secret. */
function wasmListener(secretValue: string): JsonValue {
  return {
    name: 'l',
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              http_filters: [
                {
                  name: 'default.plugin',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
                    config: { name: 'default.plugin', vm_config: { runtime: 'envoy.wasm.runtime.v8', environment_variables: { key_values: { ISTIO_META_WASM_IMAGE_PULL_SECRET: secretValue, MODE: 'strict' } } } },
                  },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

describe('redacted (Envoy MessageUtil::redact)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const m = c.message();
      const before = toJson(c.schema, m, { registry: DUMP_REGISTRY });
      const out = redacted(c.schema, m, DUMP_REGISTRY);
      assert.deepEqual(toJson(c.schema, out, { registry: DUMP_REGISTRY, useProtoFieldName: true }), c.want);
      assert.deepEqual(toJson(c.schema, m, { registry: DUMP_REGISTRY }), before, 'the message given is not changed');
    });
  }

  it('returns the message itself when it has nothing to hide', () => {
    const m = secret({ name: 'ca', validation_context: { trusted_ca: { inline_string: CERT } } });
    assert.equal(redacted(SecretSchema, m, DUMP_REGISTRY), m);
  });
});
