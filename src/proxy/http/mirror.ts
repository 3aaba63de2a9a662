// Request mirroring (RouteAction.request_mirror_policies, Envoy's shadowing): for each policy whose
// runtime fraction samples the request, a copy of the request goes to the policy's cluster (or the cluster
// a request header names), fire and forget: the client's response never waits for it and its outcome is
// dropped. The copy carries the headers sent upstream, the authority with `-shadow` appended before the
// port unless disable_shadow_host_suffix_append (Envoy's ShadowWriterImpl shadowAppendedHost), the request
// body replayed from the router's buffer, and the route timeout (Envoy's shadow RequestOptions). A shadow
// cluster that does not exist is skipped, as Envoy does; one whose breakers are open drops the copy.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routeaction-requestmirrorpolicy

import { Readable } from 'node:stream';
import type { DispatchController, UpstreamDispatcher } from '../upstream/cluster-handle.js';
import type { Random } from '../lib/random.js';
import type { ClusterHandle } from '../upstream/cluster-handle.js';
import type { WireProtocol } from '../upstream/connection-pools.js';
import { headerValue, type HeaderMap } from './headers.js';
import { sampleFraction } from './route/proto-values.js';
import type { BodyReplay, BodySource } from './request-body.js';
import { setSampled } from '../tracing/span-context.js';
import type { HttpStream } from './http-stream.js';
import type { CompiledMirrorPolicy } from './route/types.js';

export interface MirrorTarget {
  readonly cluster: ClusterHandle;
  readonly appendShadowSuffix: boolean;
  /** The policy's trace_sampled: the shadow's sampling decision when the request is traced (unset: the request's). */
  readonly traceSampled: boolean | undefined;
}

/** What a shadow copy sends; the headers are copied before the authority is changed. */
export interface ShadowRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: HeaderMap;
  /** The downstream protocol, for clusters that use the downstream's. */
  readonly downstreamHttp2: boolean;
  /** This shadow's replay of the request body (request-body.ts), or undefined without a body. */
  readonly body: BodyReplay | undefined;
  /** The route timeout, 0 = none. */
  readonly timeoutMs: number;
}

/** `host-shadow`, `host-shadow:port`; a bracketed IPv6 literal without a port gets the suffix after `]`. */
export function shadowAuthority(host: string): string {
  const colon = host.lastIndexOf(':');
  const bracket = host.lastIndexOf(']');
  if (colon < 0 || (bracket >= 0 && bracket > colon)) return `${host}-shadow`;
  return `${host.slice(0, colon)}-shadow${host.slice(colon)}`;
}

/** The policies that apply to this request, sampled and resolved to live clusters (empty when none). */
export function mirrorTargets(
  policies: readonly CompiledMirrorPolicy[],
  headers: HeaderMap,
  random: Random,
  clusterByName: (name: string) => ClusterHandle | undefined,
): readonly MirrorTarget[] {
  if (policies.length === 0) return NONE;
  let out: MirrorTarget[] | undefined;
  for (const p of policies) {
    if (p.fraction.numerator <= 0 || !sampleFraction(p.fraction, random)) continue;
    const name = p.cluster !== '' ? p.cluster : (headerValue(headers, p.clusterHeader) ?? '');
    const cluster = name === '' ? undefined : clusterByName(name);
    if (cluster === undefined) continue;
    (out ??= []).push({ cluster, appendShadowSuffix: !p.disableShadowHostSuffixAppend, traceSampled: p.traceSampled });
  }
  return out ?? NONE;
}

const NONE: readonly MirrorTarget[] = Object.freeze([]);

/**
 * Envoy's shadowing of one request: a copy to each target, never awaited. Each copy replays the request body
 * from its first byte as it arrives (Envoy's streaming_shadow: past the buffer limit too).
 */
export function sendShadows(targets: readonly MirrorTarget[], s: HttpStream, headers: HeaderMap, timeoutMs: number, body: BodySource | undefined): void {
  const req = { method: s.request.method, path: s.upstreamPath, headers, downstreamHttp2: s.request.protocol === 'HTTP/2', timeoutMs };
  for (const t of targets) {
    // A traced request's shadow gets its policy's sampling decision (Istio sets trace_sampled false).
    let h = headers;
    if (t.traceSampled !== undefined && s.info.span !== undefined) {
      h = { ...headers };
      setSampled(h, t.traceSampled);
    }
    sendShadow(t, { ...req, headers: h, body: body?.replay() });
  }
}

/**
 * Sends one shadow copy. Never throws; every failure just ends the copy. However it ends, its body replay is
 * closed, so the router's buffer does not keep chunks for a copy that will not read them.
 */
export function sendShadow(target: MirrorTarget, r: ShadowRequest): void {
  const drop = (): void => void r.body?.return();
  const cluster = target.cluster;
  const host = cluster.pick({ hash: undefined, avoid: undefined, originalDestination: undefined });
  if (host === undefined || !cluster.tryAcquire('requests')) return drop();
  const p = cluster.config.protocol;
  const protocol: WireProtocol = p === 'downstream' ? (r.downstreamHttp2 ? 'http2' : 'http1') : p;
  const pool = cluster.pool(host, protocol);
  if (!pool.ok) {
    cluster.release('requests');
    return drop();
  }
  const headers: HeaderMap = { ...r.headers };
  const authority = headerValue(headers, 'host') ?? '';
  if (target.appendShadowSuffix && authority !== '') headers['host'] = shadowAuthority(authority);

  let controller: DispatchController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const onReady = (): void => {
    if (ended) return;
    if (timer !== undefined) clearTimeout(timer);
    cluster.requestStarted(host);
    if (r.timeoutMs > 0) timer = setTimeout(() => controller?.abort(new Error('shadow timeout')), r.timeoutMs);
    pool.dispatcher.dispatch(
      { path: r.path, method: r.method, headers, body: r.body !== undefined ? Readable.from(r.body, { objectMode: false }) : null, headersTimeout: 0, bodyTimeout: 0 },
      {
        onRequestStart: (c) => {
          controller = c;
          if (ended) c.abort(new Error('shadow abandoned'));
        },
        onResponseStart: (_c, status, headers) => cluster.reportResponse(host, status, headers),
        onResponseData: () => undefined,
        onResponseEnd: () => end(true),
        onResponseError: () => end(true),
      },
    );
  };
  const end = (dispatched: boolean): void => {
    if (ended) return;
    ended = true;
    drop();
    if (timer !== undefined) clearTimeout(timer);
    if (dispatched) cluster.requestEnded(host);
    if (protocol === 'http1') cluster.releaseConnection(onReady);
    cluster.release('requests');
  };
  if (protocol === 'http1') {
    const grant = cluster.acquireConnection(onReady);
    if (grant === 'overflow') {
      cluster.release('requests');
      return drop();
    }
    if (grant === 'pending') {
      // A shadow does not wait longer than the route would.
      if (r.timeoutMs > 0) timer = setTimeout(() => end(false), r.timeoutMs);
      return;
    }
  }
  onReady();
}
