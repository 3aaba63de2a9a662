// The connection manager's http2_protocol_options for its HTTP/2 clients (envoy.config.core.v3.Http2ProtocolOptions),
// as node's HTTP/2 server takes them: max_concurrent_streams, initial_stream_window_size and hpack_table_size
// as the SETTINGS the proxy sends, initial_connection_window_size as the session's window. Unset, they are
// node's (Envoy's defaults differ: 2^31-1 streams and 256 MiB windows). The flood limits (max_outbound_frames and
// the like) are accepted: node applies flood protections of its own. What changes the protocol and is not
// implemented is refused: CONNECT over HTTP/2 (allow_connect), METADATA frames, custom SETTINGS, keepalive PINGs
// to clients, and stream errors instead of connection errors on invalid messages.

import type { Http2ProtocolOptions } from '../../xds/gen/envoy/config/core/v3/protocol_pb.js';

export interface DownstreamHttp2 {
  /** The SETTINGS sent to clients (node's http2 server `settings`). */
  readonly settings: { readonly maxConcurrentStreams?: number; readonly initialWindowSize?: number; readonly headerTableSize?: number };
  /** The connection-level flow-control window (session.setLocalWindowSize); undefined: node's. */
  readonly connectionWindowSize: number | undefined;
}

const MAX_31 = 2147483647;

export function compileDownstreamHttp2(o: Http2ProtocolOptions | undefined, path: string, problems: string[]): DownstreamHttp2 {
  if (o === undefined) return { settings: {}, connectionWindowSize: undefined };
  const range = (v: number | undefined, field: string, min: number): number | undefined => {
    if (v === undefined) return undefined;
    if (v < min) problems.push(`${path}.${field}: value must be greater than or equal to ${min}`);
    else if (v > MAX_31) problems.push(`${path}.${field}: value must be less than or equal to ${MAX_31}`);
    return v;
  };
  const maxConcurrentStreams = range(o.maxConcurrentStreams, 'max_concurrent_streams', 1);
  const initialWindowSize = range(o.initialStreamWindowSize, 'initial_stream_window_size', 65535);
  const connectionWindowSize = range(o.initialConnectionWindowSize, 'initial_connection_window_size', 65535);
  if (o.allowConnect) problems.push(`${path}.allow_connect: CONNECT over HTTP/2 is not supported`);
  if (o.allowMetadata) problems.push(`${path}.allow_metadata: METADATA frames are not supported`);
  if (o.customSettingsParameters.length > 0) problems.push(`${path}.custom_settings_parameters: custom SETTINGS are not supported`);
  if (o.connectionKeepalive !== undefined) problems.push(`${path}.connection_keepalive: keepalive PINGs to clients are not supported`);
  if (o.streamErrorOnInvalidHttpMessaging || o.overrideStreamErrorOnInvalidHttpMessage === true) {
    problems.push(`${path}.override_stream_error_on_invalid_http_message: stream errors on invalid messages are not supported`);
  }
  return {
    settings: {
      ...(maxConcurrentStreams !== undefined ? { maxConcurrentStreams } : {}),
      ...(initialWindowSize !== undefined ? { initialWindowSize } : {}),
      ...(o.hpackTableSize !== undefined ? { headerTableSize: o.hpackTableSize } : {}),
    },
    connectionWindowSize,
  };
}
