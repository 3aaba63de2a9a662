// The HTTP health check probe, after Envoy's HttpHealthCheckerImpl
// (source/extensions/health_checkers/http/health_checker_impl.cc). Each check sends `method path` with
// Host (http_health_check.host, else the endpoint's health-check hostname, else the cluster name),
// `user-agent: Envoy/HC`, request_headers_to_add/remove, and the `send` payload when set; then:
// - a body not containing every `receive` segment fails at once (only the first response_buffer_size bytes,
//   default 1024, are kept);
// - a status outside expected_statuses (default [200, 201)) fails: retriably (counting toward
//   unhealthy_threshold) when inside retriable_statuses, else at once; with
//   x-envoy-immediate-health-check-fail the host is also excluded (EXCLUDED_VIA_IMMEDIATE_HC_FAIL);
// - with service_name_matcher, x-envoy-upstream-healthchecked-cluster must match (each such comparison is
//   counted in health_check.verify_cluster);
// - x-envoy-degraded marks a passing host degraded.
// HTTP/1.1 keeps one keep-alive connection per host with reuse_connection (the default), else opens a
// fresh one per check; HTTP/2 (codec_client_type) multiplexes checks on one session (health-checker-h2.ts).
// A connection error, reset or GOAWAY during a check is a network failure.

import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import type { HttpProbeConfig } from './health-checker-config.js';
import { H2Connection } from './health-checker-h2.js';
import { payloadMatches } from './health-checker-payload.js';
import { NETWORK_FAILURE, targetAddress, tlsOptions, type Probe, type ProbeOutcome, type ProbeReport, type ProbeTarget } from './health-checker-probe.js';
import { applyHeaderMutations } from '../http/route/header-mutation.js';
import type { HeaderMap } from '../http/route/types.js';

const USER_AGENT = 'Envoy/HC';

function inRanges(status: number, ranges: HttpProbeConfig['expected']): boolean {
  for (const [start, end] of ranges) if (status >= start && status < end) return true;
  return false;
}

/** The outcome of one response, in Envoy's order: payload, status, service name; degraded last. */
export function evaluateHttpResponse(c: HttpProbeConfig, status: number, header: (name: string) => string | undefined, body: Buffer): ProbeOutcome {
  const excludeImmediately = header('x-envoy-immediate-health-check-fail') !== undefined;
  if (c.receive.length > 0 && !payloadMatches(c.receive, body)) return { ok: false, type: 'active', retriable: false, excludeImmediately };
  if (!inRanges(status, c.expected)) return { ok: false, type: 'active', retriable: inRanges(status, c.retriable), excludeImmediately };
  const degraded = header('x-envoy-degraded') !== undefined;
  if (c.serviceName !== undefined) {
    // Counted in verify_cluster whatever the answer (HttpActiveHealthCheckSession::healthCheckResult).
    if (!c.serviceName(header('x-envoy-upstream-healthchecked-cluster') ?? '')) return { ok: false, type: 'active', retriable: false, excludeImmediately: false, verifiedCluster: true };
    return { ok: true, degraded, verifiedCluster: true };
  }
  return { ok: true, degraded };
}

/** The request headers of one check (Host/:authority and user-agent, then the configured mutations). */
function requestHeaders(c: HttpProbeConfig, t: ProbeTarget, protocol: 'HTTP/1.1' | 'HTTP/2'): HeaderMap {
  const h: HeaderMap = { 'user-agent': USER_AGENT };
  if (c.headers !== undefined) applyHeaderMutations([c.headers], h, { upstreamRemoteAddress: targetAddress(t), protocol }, undefined);
  if (c.send !== undefined) h['content-length'] = String(c.send.length);
  return h;
}

/** Collects up to `limit` bytes of a body (everything when `limit` is 0), only when payloads are expected. */
class BodyCollector {
  #parts: Buffer[] = [];
  #size = 0;
  constructor(private readonly c: HttpProbeConfig) {}
  add(chunk: Buffer): void {
    if (this.c.receive.length === 0) return;
    const limit = this.c.responseBufferSize;
    if (limit !== 0 && this.#size >= limit) return;
    const part = limit !== 0 && this.#size + chunk.length > limit ? chunk.subarray(0, limit - this.#size) : chunk;
    this.#parts.push(part);
    this.#size += part.length;
  }
  body(): Buffer {
    return this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts);
  }
}

export class Http1Probe implements Probe {
  #agent: HttpAgent | undefined;
  #req: ClientRequest | undefined;

  constructor(
    private readonly config: HttpProbeConfig,
    private readonly target: ProbeTarget,
    private readonly report: ProbeReport,
  ) {}

  run(): void {
    const t = this.target;
    const tls = tlsOptions(t, ['http/1.1']);
    if (!tls.ok) return this.report(NETWORK_FAILURE);
    if (t.reuseConnection && this.#agent === undefined) {
      this.#agent = tls.options !== undefined ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
    }
    const headers: OutgoingHttpHeaders = { host: t.authority, ...requestHeaders(this.config, t, 'HTTP/1.1') };
    const opts = {
      host: t.address,
      port: t.port,
      method: this.config.method,
      path: this.config.path,
      headers,
      setHost: false,
      // Without an agent node opens a fresh connection and sends `connection: close`.
      agent: this.#agent ?? false,
      ...(t.localAddress !== undefined ? { localAddress: t.localAddress } : {}),
    };
    const req = tls.options !== undefined ? httpsRequest({ ...opts, ...tls.options }) : httpRequest(opts);
    this.#req = req;
    const fail = (): void => {
      if (this.#req !== req) return;
      this.#req = undefined;
      this.report(NETWORK_FAILURE);
    };
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      const body = new BodyCollector(this.config);
      res.on('data', (chunk: Buffer) => body.add(chunk));
      res.on('error', fail);
      res.on('aborted', fail);
      res.on('end', () => {
        if (this.#req !== req) return;
        this.#req = undefined;
        const header = (n: string): string | undefined => {
          const v = res.headers[n];
          return Array.isArray(v) ? v[0] : v;
        };
        this.report(evaluateHttpResponse(this.config, res.statusCode ?? 0, header, body.body()));
      });
    });
    req.end(this.config.send);
  }

  abort(): void {
    const req = this.#req;
    this.#req = undefined;
    req?.destroy();
  }

  close(): void {
    this.abort();
    this.#agent?.destroy();
    this.#agent = undefined;
  }
}

export class Http2Probe implements Probe {
  readonly #conn: H2Connection;
  #stream: ClientHttp2Stream | undefined;

  constructor(
    private readonly config: HttpProbeConfig,
    private readonly target: ProbeTarget,
    private readonly report: ProbeReport,
  ) {
    this.#conn = new H2Connection(target);
  }

  run(): void {
    const t = this.target;
    const headers = { ':method': this.config.method, ':path': this.config.path, ':authority': t.authority, ...requestHeaders(this.config, t, 'HTTP/2') };
    const stream = this.#conn.request(headers, this.config.send);
    if (stream === undefined) return this.report(NETWORK_FAILURE);
    this.#stream = stream;
    let response: IncomingHttpHeaders | undefined;
    const body = new BodyCollector(this.config);
    const finish = (outcome: ProbeOutcome): void => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      this.#conn.streamDone(outcome.ok || outcome.type === 'active');
      this.report(outcome);
    };
    stream.on('response', (h) => (response = h));
    stream.on('data', (chunk: Buffer) => body.add(chunk));
    stream.on('error', () => finish(NETWORK_FAILURE));
    stream.on('close', () => {
      if (response === undefined || stream.rstCode !== 0) return finish(NETWORK_FAILURE);
      const h = response;
      const header = (n: string): string | undefined => {
        const v = h[n];
        return Array.isArray(v) ? v[0] : v;
      };
      finish(evaluateHttpResponse(this.config, Number(h[':status'] ?? 0), header, body.body()));
    });
  }

  abort(): void {
    const s = this.#stream;
    this.#stream = undefined;
    if (s !== undefined) this.#conn.abortStream(s);
  }

  close(): void {
    this.#stream = undefined;
    this.#conn.close();
  }
}
