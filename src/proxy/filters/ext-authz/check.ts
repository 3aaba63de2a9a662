// What the ext_authz filter hands an authorization client and what it gets back (Envoy's
// Filters::Common::ExtAuthz::CheckRequest attributes and Response with CheckStatus OK / Denied / Error),
// independent of whether the authorizer speaks HTTP or gRPC. Clients never throw: every failure to reach
// or understand the authorizer is an `error` result.

import type { HeaderMap } from '../../http/headers.js';

/** The downstream request as the authorizer sees it. */
export interface CheckInput {
  readonly method: string;
  /** :path with the query. */
  readonly path: string;
  readonly authority: string;
  readonly scheme: 'http' | 'https';
  /** `HTTP/1.1`, `HTTP/2`. */
  readonly protocol: string;
  /** The request headers that may be sent (already filtered by allowed/disallowed headers), lower-case names. */
  readonly headers: HeaderMap;
  /** The buffered body (with_request_body), undefined when none is sent. */
  readonly body: Buffer | undefined;
  /** with_request_body.pack_as_bytes: the gRPC check carries the body as raw_body instead of body. */
  readonly packAsBytes: boolean;
  /** The request's size in bytes as declared (content-length), or -1 when unknown. */
  readonly size: number;
  readonly requestId: string;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
  /** Verified client certificate URI SAN (the source principal), '' when none. */
  readonly sourcePrincipal: string;
  /** The SNI when include_tls_session is set, else ''. */
  readonly sni: string;
  /** Dynamic metadata namespaces selected by metadata_context_namespaces. */
  readonly metadataContext: Readonly<Record<string, Record<string, unknown>>>;
  readonly nowMs: number;
}

export type HeaderPair = readonly [name: string, value: string];

export type CheckResult =
  | {
      readonly kind: 'ok';
      /** Overwrite (or add) on the upstream request. */
      readonly headersToSet: readonly HeaderPair[];
      /** Append to the upstream request. */
      readonly headersToAppend: readonly HeaderPair[];
      readonly headersToRemove: readonly string[];
      /** Added to the response sent downstream. */
      readonly responseHeadersToAdd: readonly HeaderPair[];
      readonly dynamicMetadata: Record<string, unknown> | undefined;
    }
  | {
      readonly kind: 'denied';
      readonly status: number;
      readonly body: string;
      /** Set on the local reply. */
      readonly headers: readonly HeaderPair[];
      readonly dynamicMetadata: Record<string, unknown> | undefined;
    }
  | { readonly kind: 'error'; readonly reason: string };

/** Completes once; the returned function cancels a check that has not completed (downstream reset). */
export type CheckCallback = (r: CheckResult) => void;
export type CancelCheck = () => void;
