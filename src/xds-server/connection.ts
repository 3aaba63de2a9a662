// One ADS stream's bookkeeping, shared by the SotW and delta handlers: the proxy behind it, and per
// resource type what it subscribed to, what was sent (nonce, versions), what it acknowledged, and the
// rejections it reported. This is Istio's model.WatchedResource (NonceSent, NonceAcked, LastError,
// LastSendTime) plus the per-resource versions needed to show acked-vs-expected diffs.
// It holds state only; deciding what to send lives in sotw-stream.ts and delta-stream.ts.

import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Proxy } from '../model/proxy.js';
import type { XdsTypeUrl } from '../xds/type-urls.js';
import type { ProxyGeneration } from './generation.js';
import type { XdsMetrics } from './metrics.js';
import type { ResponseBodies } from './response-encoding.js';
import { Subscription } from './subscription.js';

export type XdsMode = 'sotw' | 'delta';

/** A rejection (NACK) as the proxy reported it. */
export interface NackRecord {
  readonly typeUrl: XdsTypeUrl;
  readonly nonce: string;
  /** gRPC status code name of error_detail.code, as istiod labels rejects (`InvalidArgument`). */
  readonly code: string;
  readonly message: string;
  /** Epoch milliseconds (server clock). */
  readonly time: number;
}

export class WatchState {
  readonly subscription: Subscription;
  /** Nonce of the last response sent; '' when none. */
  nonceSent = '';
  /** Nonce of the last response the proxy acknowledged; '' when none. */
  nonceAcked = '';
  lastSendTime: number | undefined;
  /** SotW: the version_info of the last response. */
  versionInfoSent = '';
  /**
   * What the proxy was sent and has not been told otherwise: name -> version. SotW: the resources of the
   * last response. Delta: the client's view (initial_resource_versions, then every resource sent);
   * '' marks a name the client was told does not exist.
   */
  sent = new Map<string, string>();
  /** What the proxy acknowledged: name -> version (the state it runs with, as far as we know). */
  acked = new Map<string, string>();
  /** The rejection of the last response, cleared by the next ACK. */
  lastError: NackRecord | undefined;
  /** A response is owed (first request, or a subscription change) even if nothing changed. */
  mustRespond = false;
  /** Delta: what each unacknowledged response changed, by nonce. */
  readonly pending = new Map<string, { readonly set: ReadonlyMap<string, string>; readonly removed: readonly string[] }>();

  constructor(readonly typeUrl: XdsTypeUrl) {
    this.subscription = new Subscription(typeUrl);
  }
}

const MAX_NACKS = 20;

export class Connection {
  readonly watches = new Map<XdsTypeUrl, WatchState>();
  /** The most recent rejections, oldest first (bounded). */
  readonly nacks: NackRecord[] = [];

  constructor(
    /** Istio's connection id: `<proxy id>-<sequence>`. */
    readonly id: string,
    readonly proxy: Proxy,
    readonly mode: XdsMode,
    readonly peer: string,
    readonly connectedAt: number,
  ) {}

  watch(typeUrl: XdsTypeUrl): WatchState {
    let w = this.watches.get(typeUrl);
    if (w === undefined) {
      w = new WatchState(typeUrl);
      this.watches.set(typeUrl, w);
    }
    return w;
  }

  /** Records a NACK once per nonce (clients repeat error_detail until the next response). Returns false for a repeat. */
  recordNack(w: WatchState, nack: NackRecord): boolean {
    if (w.lastError?.nonce === nack.nonce) return false;
    w.lastError = nack;
    this.nacks.push(nack);
    if (this.nacks.length > MAX_NACKS) this.nacks.shift();
    return true;
  }
}

/** What the server gives a stream handler. */
export interface StreamHost {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: XdsMetrics;
  /** control_plane.identifier in responses. */
  readonly controlPlaneId: string;
  /** SotW response bodies shared by the streams sent the same resources. */
  readonly bodies: ResponseBodies;
  nextNonce(): string;
  nextConnectionId(proxy: Proxy): string;
  /** The proxy's generation for the current snapshot; undefined before the first snapshot or when translation failed. */
  generate(proxy: Proxy): ProxyGeneration | undefined;
  register(stream: AdsStream): void;
  unregister(stream: AdsStream): void;
}

/** A live ADS stream as the server pushes to it. */
export interface AdsStream {
  readonly connection: Connection;
  /** Sends, for every watched type in push order, what changed for this proxy (or is owed). Returns the number of responses written. */
  push(generation: ProxyGeneration): number;
  /** Ends the stream (server shutdown). */
  close(): void;
}

const GRPC_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/** Go's codes.Code.String() for a numeric gRPC status code. */
export function grpcCodeName(code: number): string {
  return GRPC_CODE_NAMES[code] ?? `Code(${code})`;
}
