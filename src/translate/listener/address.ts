// Listener addresses and downstream transport sockets (Istio's util.BuildAddress, buildDownstreamTLSTransportSocket).

import { create } from '@bufbuild/protobuf';
import { pack } from '../../xds/codec.js';
import { TransportSocketSchema, type TransportSocket } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { DownstreamTlsContextSchema, type DownstreamTlsContext } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { TLS_TRANSPORT_SOCKET } from './well-known.js';

export { socketAddress } from '../proto-values.js';

/** The TLS transport socket terminating `ctx`; undefined (plaintext) when there is no context. */
export function downstreamTlsSocket(ctx: DownstreamTlsContext | undefined): TransportSocket | undefined {
  if (ctx === undefined) return undefined;
  return create(TransportSocketSchema, { name: TLS_TRANSPORT_SOCKET, configType: { case: 'typedConfig', value: pack(DownstreamTlsContextSchema, ctx) } });
}
