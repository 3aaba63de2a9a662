// Envoy's router filter: forwards a request to the route's cluster and streams the response back, with the
// route timeout, per-try timeout, retries (retry_on, num_retries, jittered back-off, previous-hosts
// predicate, previous_priorities, x-envoy-attempt-count), circuit breakers (x-envoy-overloaded) and outlier reporting. Every
// failure becomes a local reply through local-reply.ts; nothing on this path throws.
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter

import { Readable } from 'node:stream';
import type { DispatchController, DispatchHandler, HeaderValues, HostRequestCounters, UpstreamDispatcher } from '../upstream/cluster-handle.js';
import type { ClusterHandle, PickedHost } from '../upstream/cluster-handle.js';
import type { WireProtocol } from '../upstream/connection-pools.js';
import { backoffMs, isRetriable, type AttemptOutcome, type RetryPolicy } from './retry-state.js';
import { BODY_NO_HEALTHY_UPSTREAM, BODY_UPSTREAM_TIMEOUT, overflowReply, upstreamResetBody, upstreamResetDetails, type ResetReason } from './local-reply.js';
import { flagFor, resetReasonOf } from './upstream-reset.js';
import { ResponseFlag } from './response-flags.js';
import type { HttpStream } from './http-stream.js';
import { sendShadows, type MirrorTarget } from './mirror.js';
import { BodySource, type BodyReplay } from './request-body.js';
import { PreviousPriorities } from '../upstream/previous-priorities.js';
import { attemptHeaders } from './router-controls.js';
import { autoSniSource, clearAttemptTimers, noteUpstreamResponse, type Attempt, type ForwardPlan } from './forward-plan.js';

export type { ForwardPlan };

/** Forwards one request; resolves when the response has been sent (or the stream reset). */
export class Router {
  #attempt: Attempt | undefined;
  #retries = 0;
  /** The hosts earlier attempts went to (the previous-hosts predicate): the first, then a Set once a retry needs one. */
  #firstTried: string | undefined;
  #tried: Set<string> | undefined;
  /** The previous_priorities retry state (retryRemoteLocalities), made at the first pick of a route that has one. */
  #priorities: PreviousPriorities | undefined;
  #globalTimer: NodeJS.Timeout | undefined;
  #finished = false;
  /** The upstream sent `100 Continue`: no retries after it. */
  #continued = false;
  #body: BodySource | undefined;
  #protocol: WireProtocol;
  #holdsRetrySlot = false;
  /** The last retry was for a per-try timeout. */
  #timeoutRetry = false;
  /** When the whole request had arrived (hrtime ns; 0 until then): Envoy's timeouts count from there. */
  #requestCompleteNs = 0n;
  /** A retry waiting for its back-off: no attempt is in flight. */
  #backoff: NodeJS.Timeout | undefined;
  /** The first attempt's body, counted from the start: it may wait for a connection while the body outgrows the limit. */
  #firstReplay: BodyReplay | undefined;

  constructor(
    private readonly s: HttpStream,
    private readonly plan: ForwardPlan,
  ) {
    const p = plan.cluster.config.protocol;
    this.#protocol = p === 'downstream' ? (s.request.protocol === 'HTTP/2' ? 'http2' : 'http1') : p;
  }

  start(): void {
    const s = this.s;
    s.info.upstreamCluster = this.plan.cluster.config.name;
    if (s.request.hasBody) {
      const body = new BodySource(s, this.plan.bodyLimit, () => this.#onBodyOverflow());
      this.#body = body;
      this.#firstReplay = body.replay();
      body.whenEnded(() => this.#onRequestComplete());
    } else this.#onRequestComplete();
    s.onDownstreamReset(() => this.#abortAll());
    this.#startAttempt();
    if (this.plan.mirrors.length > 0 && !this.#finished) this.#shadow();
  }

  /**
   * Envoy's onRequestComplete: the route timeout starts once the whole request has arrived, and so does the
   * per-try timeout of an attempt already sent (later ones start when sent).
   */
  #onRequestComplete(): void {
    if (this.#finished || this.#requestCompleteNs !== 0n) return;
    this.#requestCompleteNs = process.hrtime.bigint();
    const t = this.plan.controls.timeoutMs;
    if (t > 0) this.#globalTimer = setTimeout(() => this.#onGlobalTimeout(), t);
    const a = this.#attempt;
    if (a !== undefined && !a.done && !a.pending && a.perTryTimer === undefined && a.startNs !== 0n && !this.s.responseStarted) this.#armPerTry(a);
  }

  #armPerTry(a: Attempt): void {
    const perTry = this.plan.controls.perTryTimeoutMs;
    if (perTry > 0) a.perTryTimer = setTimeout(() => this.#onPerTryTimeout(a), perTry);
    const idle = this.plan.perTryIdleTimeoutMs;
    if (idle > 0) a.idleTimer = setTimeout(() => this.#onPerTryTimeout(a, true), idle);
  }

  /** An attempt's request headers (router-controls.ts attemptHeaders). */
  #attemptHeaders(attempt: number, host?: PickedHost): Record<string, string | string[] | undefined> {
    const done = this.#requestCompleteNs;
    // The first attempt is told the whole timeout (finalTimeout); a retry what is left since the request was complete (doRetry).
    const elapsed = attempt <= 1 || done === 0n ? 0 : Number((process.hrtime.bigint() - done) / 1_000_000n);
    return attemptHeaders(this.s, this.plan, attempt, host?.hostname, this.#timeoutRetry, elapsed);
  }

  /** Envoy's shadowing: copies of the request, once per request (not per attempt), never awaited. */
  #shadow(): void {
    sendShadows(this.plan.mirrors, this.s, this.#attemptHeaders(1), this.plan.controls.timeoutMs, this.#body);
  }

  #abortAll(): void {
    this.#finished = true;
    this.#clearTimers();
    const a = this.#attempt;
    if (a !== undefined && !a.done) {
      a.done = true;
      this.#abortAttempt(a, 'downstream reset');
      this.#endAttempt(a);
    }
  }

  /** Resets what an attempt sent upstream, if anything (upstream_rq_tx_reset). */
  #abortAttempt(a: Attempt, why: string): void {
    if (a.controller === undefined) return;
    a.controller.abort(new Error(why));
    this.plan.cluster.envoyStats.rqTxReset.inc();
  }

  #clearTimers(): void {
    if (this.#globalTimer !== undefined) clearTimeout(this.#globalTimer);
    this.#globalTimer = undefined;
    if (this.#attempt !== undefined) clearAttemptTimers(this.#attempt);
  }

  #onGlobalTimeout(): void {
    if (this.#finished) return;
    const s = this.s;
    s.info.flags |= ResponseFlag.UT;
    const a = this.#attempt;
    this.#finished = true;
    this.plan.stats.rqTimeout.inc();
    if (a !== undefined && !a.done) {
      a.done = true;
      this.#abortAttempt(a, 'route timeout');
      if (!a.pending) this.plan.cluster.report(a.host, 'gateway');
      if (a.counters !== undefined) {
        a.counters.rqError++;
        a.counters.rqTimeout++;
      }
      this.#endAttempt(a);
    }
    if (s.response.headersSent) return s.resetDownstream('response_timeout');
    this.#timeoutReply();
  }

  /**
   * Envoy's onUpstreamTimeoutAbort: 504 `upstream request timeout`, or an empty 204 under
   * x-envoy-upstream-rq-timeout-alt-response; `details` names the timeout (response_timeout for the route's).
   */
  #timeoutReply(details = 'response_timeout'): void {
    const status = this.plan.controls.timeoutStatus;
    this.s.localReply({ status, body: status === 504 ? BODY_UPSTREAM_TIMEOUT : '', flag: ResponseFlag.UT, details });
  }

  #endAttempt(a: Attempt): void {
    clearAttemptTimers(a);
    const cluster = this.plan.cluster;
    if (a.active) {
      a.active = false;
      cluster.envoyStats.rqActive.dec();
    }
    if (a.slot !== undefined) {
      cluster.releaseConnection(a.slot);
      a.slot = undefined;
    }
    cluster.release('requests');
    cluster.requestEnded(a.host);
  }

  /** Envoy's overflow local reply: a breaker is open (requests, or pending requests waiting for a connection). */
  #overflow(): void {
    this.#finish();
    this.s.localReply(overflowReply(this.#retries > 0, this.plan.suppressEnvoyHeaders));
  }

  #startAttempt(): void {
    const s = this.s;
    const cluster = this.plan.cluster;
    const retry = this.plan.controls.retry;
    const every = retry?.previousPrioritiesUpdateFrequency;
    const priorities = every !== undefined ? (this.#priorities ??= new PreviousPriorities(every)) : undefined;
    const avoid = retry?.avoidPreviousHosts === true ? this.#triedHosts() : undefined;
    const host = cluster.pick({ hash: this.plan.hash, avoid, selectionAttempts: (retry?.hostSelectionMaxAttempts ?? 1) + 1, originalDestination: this.plan.originalDestination, priorities, override: s.upstreamOverrideHost });
    if (host === undefined) {
      this.#finish();
      s.localReply({ status: 503, body: BODY_NO_HEALTHY_UPSTREAM, flag: ResponseFlag.UH, details: 'no_healthy_upstream' });
      return;
    }
    if (!cluster.tryAcquire('requests')) return this.#overflow();
    cluster.requestStarted(host);
    s.info.attempts++;
    s.info.upstreamHost = host.key;
    const a: Attempt = { host, startNs: 0n, controller: undefined, perTryTimer: undefined, idleTimer: undefined, durationTimer: undefined, done: false, slot: undefined, pending: false, active: false, counters: undefined };
    this.#attempt = a;
    if (this.#firstTried === undefined) this.#firstTried = host.key;
    else this.#triedHosts()?.add(host.key);
    const pool = cluster.pool(host, this.#protocol, autoSniSource(s, cluster.config.overrideAutoSniHeader), s.upstreamAlpn);
    if (!pool.ok) {
      this.#onAttemptFailed(a, { reason: 'remote connection failure', transport: pool.transportFailure, kind: 'connect-failure' });
      return;
    }
    if (this.#protocol === 'http1') {
      // One request per HTTP/1.1 connection: without a free one the request waits as pending, or overflows.
      const slot = (): void => {
        a.pending = false;
        if (!a.done) this.#dispatch(a, pool.dispatcher);
      };
      const grant = cluster.acquireConnection(slot);
      if (grant === 'overflow') {
        a.done = true;
        this.#endAttempt(a);
        return this.#overflow();
      }
      a.slot = slot;
      if (grant === 'pending') {
        a.pending = true;
        return;
      }
    }
    this.#dispatch(a, pool.dispatcher);
  }

  /**
   * The attempt has a connection and is being written: Envoy counts upstream_rq_total, upstream_rq_active and
   * the host's rq_total here (ConnPoolImplBase::attachStreamToClient), not for a request whose connection fails.
   */
  #sent(a: Attempt): void {
    if (a.done || a.active) return;
    this.plan.stats.rqTotal.inc();
    this.plan.cluster.envoyStats.rqActive.inc();
    a.active = true;
    a.counters = this.plan.cluster.requestSent(a.host);
  }

  #triedHosts(): Set<string> | undefined {
    if (this.#firstTried === undefined) return undefined;
    return (this.#tried ??= new Set([this.#firstTried]));
  }

  #dispatch(a: Attempt, dispatcher: UpstreamDispatcher): void {
    const s = this.s;
    a.startNs = process.hrtime.bigint();
    const headers = this.#attemptHeaders(s.info.attempts, a.host);
    // Envoy arms the per-try timeout once the pool hands the request a connection (UpstreamRequest::onPoolReady)
    // and the whole request has arrived (else at onRequestComplete).
    if (this.#requestCompleteNs !== 0n) this.#armPerTry(a);
    // UpstreamRequest::onPoolReady: the attempt's maximum duration, from the header or the cluster.
    const limit = this.plan.controls.upstreamStreamDurationMs ?? this.plan.cluster.config.maxStreamDurationMs;
    if (limit !== undefined) a.durationTimer = setTimeout(() => this.#onMaxDuration(a), limit);
    const replay = this.#firstReplay ?? this.#body?.replay();
    this.#firstReplay = undefined;
    const body = replay !== undefined ? Readable.from(replay, { objectMode: false }) : null;
    dispatcher.dispatch({ path: s.upstreamPath, method: s.request.method, headers, body, headersTimeout: 0, bodyTimeout: 0 }, new Router.#Callbacks(this, a));
  }

  /**
   * One attempt's dispatch callbacks: an object per attempt with its methods on the prototype, where five
   * arrows would make five closures and their context on every request. Declared in the class body so its
   * methods reach the router's private members.
   */
  static readonly #Callbacks = class implements DispatchHandler {
    constructor(
      private readonly router: Router,
      private readonly a: Attempt,
    ) {}

    onRequestStart(controller: DispatchController): void {
      this.a.controller = controller;
      if (this.a.done) controller.abort(new Error('attempt abandoned'));
    }

    onRequestSent(): void {
      this.router.#sent(this.a);
    }

    onResponseContinue(): void {
      this.router.#onContinue(this.a);
    }

    onResponseStart(controller: DispatchController, status: number, h: HeaderValues): void {
      this.router.#onResponseStart(this.a, controller, status, h);
    }

    onResponseData(controller: DispatchController, chunk: Buffer): void {
      if (this.a.done) return;
      this.a.idleTimer?.refresh();
      const s = this.router.s;
      if (!s.writeBody(chunk)) {
        controller.pause();
        s.whenDrained(() => controller.resume());
      }
    }

    onResponseEnd(_controller: DispatchController, trailers: HeaderValues): void {
      const a = this.a;
      if (a.done) return;
      a.done = true;
      this.router.#endAttempt(a);
      this.router.#finish();
      this.router.s.endResponse(trailers);
    }

    onResponseError(_controller: DispatchController | undefined, err: Error): void {
      this.router.#onError(this.a, err);
    }
  };

  /**
   * Envoy's onPerTryTimeoutCommon, for the per-try timeout (until the response head arrives) and the per-try
   * idle timeout (nothing from the host for that long, also while the response streams): the attempt is reset
   * and retried as a timeout; the last one is answered 504 (UT), or its streaming response reset.
   */
  #onPerTryTimeout(a: Attempt, idle = false): void {
    if (a.done || this.#finished) return;
    if (idle) a.idleTimer = undefined;
    else a.perTryTimer = undefined;
    if (!idle && this.s.response.headersSent) return; // the response is streaming: only the route timeout applies now
    a.done = true;
    const stats = this.plan.cluster.envoyStats;
    (idle ? stats.rqPerTryIdleTimeout : stats.rqPerTryTimeout).inc();
    this.#abortAttempt(a, 'per try timeout');
    this.plan.cluster.report(a.host, 'gateway');
    if (a.counters !== undefined) {
      a.counters.rqError++;
      a.counters.rqTimeout++;
    }
    this.#endAttempt(a);
    // As Envoy (Filter::onPerTryTimeoutCommon): a retried attempt leaves no flag; UT only when this was the last.
    const details = idle ? 'upstream_per_try_idle_timeout' : 'upstream_per_try_timeout';
    if (!this.s.responseStarted && this.#retryAllowed({ kind: 'per-try-timeout' })) return this.#scheduleRetry(true);
    this.#finish();
    if (this.s.response.headersSent) {
      this.s.info.flags |= ResponseFlag.UT;
      return this.s.resetDownstream(details);
    }
    this.#timeoutReply(details);
  }

  /**
   * Envoy's Filter::onStreamMaxDurationReached: the attempt is reset and retried as a reset would be (not once
   * the response started); else 408 (504 once the whole request had arrived) `upstream max stream duration
   * reached`, flag UMSDR, or a reset when the response already started.
   */
  #onMaxDuration(a: Attempt): void {
    if (a.done || this.#finished) return;
    a.durationTimer = undefined;
    a.done = true;
    this.plan.cluster.envoyStats.rqMaxDurationReached.inc();
    this.#abortAttempt(a, 'max stream duration');
    this.#endAttempt(a);
    if (!this.s.responseStarted && this.#retryAllowed({ kind: 'reset', started: true })) return this.#scheduleRetry();
    this.#finish();
    const status = this.#requestCompleteNs !== 0n ? 504 : 408;
    this.s.localReply({ status, body: 'upstream max stream duration reached', flag: ResponseFlag.UMSDR, details: 'upstream_max_stream_duration_reached' });
  }

  /**
   * The upstream's `100 Continue` (Envoy's Filter::onUpstream1xxHeaders): charged as the upstream's response
   * code (upstream_rq_100, upstream_rq_1xx, upstream_rq_completed), the end of retries (Envoy resets its retry
   * state: a retried upstream might not send a 100 of its own), and sent downstream when the connection manager
   * proxies 100-continue; without proxy_100_continue the connection manager answered the client already and
   * Envoy swallows this one (ActiveStreamDecoderFilter::encode1xxHeaders).
   */
  #onContinue(a: Attempt): void {
    if (a.done || this.#finished) return;
    this.plan.cluster.envoyStats.response(100);
    this.#continued = true;
    if (this.s.proxy100Continue) this.s.sendContinue();
  }

  #onResponseStart(a: Attempt, controller: DispatchController, status: number, h: Record<string, string | string[] | undefined>): void {
    if (a.done) return;
    if (status < 200 && status !== 101) return; // other 1xx are dropped (100 Continue: #onContinue)
    const s = this.s;
    const grpcRaw = h['grpc-status'];
    const grpcStatus = typeof grpcRaw === 'string' ? Number(grpcRaw) : undefined;
    this.plan.cluster.reportResponse(a.host, status, h);
    if (a.counters !== undefined) {
      if (status >= 500) a.counters.rqError++;
      else a.counters.rqSuccess++;
    }
    const policy = this.plan.controls.retry;
    if (policy !== undefined && this.#retryAllowed({ kind: 'response', status, grpcStatus, headers: h })) {
      a.done = true;
      controller.abort(new Error('retrying'));
      this.#endAttempt(a);
      this.#scheduleRetry();
      return;
    }
    const stats = this.plan.stats;
    stats.response(status);
    // Envoy's RetryStateImpl::shouldRetry: a retried request whose next outcome needs no retry succeeded (not
    // one whose retries ran out or overflowed).
    if (this.#retries > 0 && (policy === undefined || !isRetriable(policy, { kind: 'response', status, grpcStatus, headers: h }))) stats.rqRetrySuccess.inc();
    if (a.perTryTimer !== undefined) {
      clearTimeout(a.perTryTimer);
      a.perTryTimer = undefined;
    }
    a.idleTimer?.refresh();
    noteUpstreamResponse(s, this.plan, a, controller.localAddress, h);
    s.writeUpstreamHead(status, h);
  }

  #onError(a: Attempt, err: Error): void {
    if (a.done) return;
    const local = a.controller?.localAddress;
    if (local !== undefined) this.s.info.upstreamLocalAddress = local;
    this.#onAttemptFailed(a, resetReasonOf(err));
  }

  #onAttemptFailed(a: Attempt, r: { reason: ResetReason; transport: string; kind: AttemptOutcome['kind'] }): void {
    const s = this.s;
    a.done = true;
    this.#endAttempt(a);
    this.plan.cluster.report(a.host, r.kind === 'connect-failure' ? 'local-origin-failure' : 'gateway');
    if (a.counters !== undefined) a.counters.rqError++;
    if (r.kind === 'reset' || r.kind === 'refused-stream') this.plan.cluster.envoyStats.rqRxReset.inc();
    if (s.responseStarted) {
      // Envoy's onUpstreamAbort once the response has started: the reset reason's flag, and sendLocalReply
      // sets the details before it resets the downstream stream (source/common/router/router.cc).
      this.#finish();
      s.info.flags |= flagFor(r);
      s.info.details = upstreamResetDetails(r.reason, r.transport, true);
      s.resetDownstream(s.info.details);
      return;
    }
    s.info.upstreamTransportFailureReason = r.transport;
    // A retried reset leaves no response flag (Envoy's Filter::onUpstreamReset sets flags only on the final abort).
    if (this.#retryAllowed(r.kind === 'reset' || r.kind === 'refused-stream' ? { kind: r.kind, started: a.active || a.counters !== undefined } : ({ kind: r.kind } as AttemptOutcome))) return this.#scheduleRetry();
    this.#finish();
    const status = r.reason === 'protocol error' ? 502 : 503;
    s.localReply({ status, body: upstreamResetBody(r.reason, this.#retries > 0, r.transport), flag: flagFor(r), details: upstreamResetDetails(r.reason, r.transport) });
  }

  /** Whether another attempt may start after `o` (policy, budget, breaker, replayable body). */
  #retryAllowed(o: AttemptOutcome): boolean {
    const p = this.plan.controls.retry;
    if (p === undefined || this.#finished || this.#continued) return false;
    if (!isRetriable(p, o)) return false;
    if (this.#retries >= p.numRetries) {
      this.s.info.flags |= ResponseFlag.URX;
      this.plan.stats.rqRetryLimitExceeded.inc();
      return false;
    }
    if (this.#body !== undefined && !this.#body.replayable()) return false;
    if (!this.#holdsRetrySlot) {
      if (!this.plan.cluster.tryAcquire('retries')) {
        this.plan.routeStats?.rqRetryOverflow.inc(); // the cluster's upstream_rq_retry_overflow is counted by tryAcquire
        return false;
      }
      this.#holdsRetrySlot = true;
    }
    return true;
  }

  /** `timeout`: a per-try timeout caused it (x-envoy-is-timeout-retry). */
  #scheduleRetry(timeout = false): void {
    const p = this.plan.controls.retry as RetryPolicy;
    this.#timeoutRetry = timeout;
    this.#retries++;
    this.plan.stats.rqRetry.inc();
    const delay = backoffMs(p, this.#retries, this.s.random);
    const t = setTimeout(() => {
      this.#backoff = undefined;
      if (!this.#finished) this.#startAttempt();
    }, delay);
    t.unref?.();
    this.#backoff = t;
  }

  /**
   * The request body outgrew the limit: its retries are given up (Envoy's Router::decodeData; shadows stream
   * it), and a retry waiting for its back-off, with no attempt to carry the rest, ends the request with 507.
   */
  #onBodyOverflow(): void {
    if (this.plan.controls.retry === undefined || this.#finished || this.#continued) return;
    this.plan.cluster.envoyStats.retryOrShadowAbandoned.inc();
    if (this.#backoff === undefined) return;
    this.#finish(); // clears the back-off
    this.s.localReply({ status: 507, body: 'exceeded request buffer limit while retrying upstream', flag: 0, details: 'request_payload_exceeded_retry_buffer_limit' });
  }

  #finish(): void {
    this.#finished = true;
    this.#clearTimers();
    void this.#firstReplay?.return(); // never dispatched: its chunks need not wait for it
    clearTimeout(this.#backoff);
    this.#backoff = undefined;
    if (this.#holdsRetrySlot) {
      this.plan.cluster.release('retries');
      this.#holdsRetrySlot = false;
    }
  }
}
