// The HttpConnectionManager as Istio builds it (listener_builder.go buildHTTPConnectionManager): codec AUTO,
// path normalization (MeshConfig DEFAULT: normalize_path, escaped slashes kept), websocket upgrades, no
// stream idle timeout, RDS over ADS with no initial fetch timeout or an inline route config, http filters in
// Istio's order with istio.metadata_exchange first for the listener's class (appendMxFilter) and istio.alpn on
// every class but sidecar inbound (features.ALPNFilter); callers fill the other slots (security, telemetry, and
// the stateful_session filter of httpfilter/stateful-session.ts). Access logs are
// left empty (Istio's accessLogBuilder adds them later; so will Isthmus'), and tracing and the request-id
// extension are not set.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { Protocol } from '../../api/networking/protocol.js';
import { ConfigSourceSchema, ApiVersion, type ConfigSource } from '../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import type { RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import {
  HttpConnectionManagerSchema,
  HttpConnectionManager_PathWithEscapedSlashesAction as EscapedSlashes,
  HttpConnectionManager_UpgradeConfigSchema as UpgradeConfigSchema,
  RdsSchema,
  type HttpConnectionManager,
} from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { alpnFilter, buildHttpFilters, grpcWebFilter, type HttpFilterSlots, type ListenerClass } from './http-filters.js';
import { durationFromSeconds } from '../proto-values.js';
import { metadataExchangeHttpFilter } from '../telemetry/metadata-exchange.js';

export interface HttpListenerOpts {
  readonly class: ListenerClass;
  /** RDS route config name; when unset, `routeConfig` is inlined. */
  readonly rds?: string;
  readonly routeConfig?: RouteConfiguration;
  /** Set by the caller (gateway HTTPS chains use the server name); else the listener builder derives it. */
  readonly statPrefix?: string;
  readonly useRemoteAddress: boolean;
  /** The port's protocol, when known (inbound HTTP/2 ports get http2_protocol_options). */
  readonly protocol?: Protocol | undefined;
  /** Fields that differ per listener class (server name, XFCC handling, HTTP/1 options). */
  readonly base?: MessageInitShape<typeof HttpConnectionManagerSchema>;
  readonly filters?: HttpFilterSlots;
}

/** ADS config source with no initial fetch timeout (Istio: the listener must not wait for RDS). */
export function adsConfigSource(): ConfigSource {
  return create(ConfigSourceSchema, {
    configSourceSpecifier: { case: 'ads', value: {} },
    initialFetchTimeout: durationFromSeconds(0),
    resourceApiVersion: ApiVersion.V3,
  });
}

export function buildHttpConnectionManager(opts: HttpListenerOpts, statPrefix: string): HttpConnectionManager {
  const hcm = create(HttpConnectionManagerSchema, opts.base ?? {});
  hcm.statPrefix = opts.statPrefix ?? statPrefix;
  hcm.accessLog = [];
  hcm.appendXForwardedPort = false;
  hcm.pathWithEscapedSlashesAction = EscapedSlashes.KEEP_UNCHANGED;
  hcm.normalizePath = true;
  hcm.useRemoteAddress = opts.useRemoteAddress;
  hcm.upgradeConfigs = [create(UpgradeConfigSchema, { upgradeType: 'websocket' })];
  hcm.streamIdleTimeout = durationFromSeconds(0);
  if (opts.rds !== undefined) {
    hcm.routeSpecifier = { case: 'rds', value: create(RdsSchema, { configSource: adsConfigSource(), routeConfigName: opts.rds }) };
  } else if (opts.routeConfig !== undefined) {
    hcm.routeSpecifier = { case: 'routeConfig', value: opts.routeConfig };
  }
  const alpn = [...(opts.protocol === 'GRPC-Web' ? [grpcWebFilter()] : []), ...(opts.class !== 'sidecar-inbound' ? [alpnFilter()] : [])];
  hcm.httpFilters = buildHttpFilters({ metadataExchange: [metadataExchangeHttpFilter(opts.class)], ...(alpn.length > 0 ? { alpn } : {}), ...opts.filters });
  hcm.proxy100Continue = true;
  return hcm;
}
