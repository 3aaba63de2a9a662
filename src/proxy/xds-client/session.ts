// What one ADS stream's protocol logic (state of the world or delta) shares with the client that owns it:
// the state that outlives the stream, the node, the checks and compile hook every resource goes through,
// and how a rejection is worded. A session lives exactly as long as its stream.

import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { shortTypeName } from '../../xds/type-urls.js';
import { PROXY_TYPES, type ExtraChecks, type ProxyTypeUrl, type ResourceCompiler } from './validate.js';
import type { XdsState } from './xds-state.js';

/**
 * error_detail.code of a NACK: gRPC INTERNAL, as Envoy sets it for both protocols
 * (source/extensions/config_subscription/grpc/grpc_mux_impl.cc and delta_subscription_state.cc handleBadResponse).
 */
export const NACK_CODE = 13;

export interface SessionContext {
  readonly state: XdsState;
  readonly node: Node;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly extraChecks: ExtraChecks | undefined;
  readonly compile: ResourceCompiler | undefined;
  /** Tells the client's listeners that a response was handled. */
  notify(): void;
}

export interface AdsSession<Res> {
  /** Sends the stream's initial requests: wildcard CDS and LDS, then the names already subscribed. */
  start(): void;
  handle(response: Res): void;
}

export function isProxyType(typeUrl: string): typeUrl is ProxyTypeUrl {
  return (PROXY_TYPES as readonly string[]).includes(typeUrl);
}

/** error_detail.message of a NACK: the type, the version, then every problem. */
export function rejectionMessage(type: ProxyTypeUrl, version: string, problems: readonly string[]): string {
  return `${shortTypeName(type)} update rejected (version ${version}): ${problems.join('; ')}`;
}

export function nowIso(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
