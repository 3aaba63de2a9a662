// What the four Bookinfo services share: reading their env, serving HTTP with a clean stop, the list of
// headers every service copies from its incoming request onto its outgoing calls, and the HTTP client.
// This is application code: it knows nothing of the mesh. Outgoing calls go to plain service names
// (`http://reviews:9080/...`) through the proxy named by HTTP_PROXY, as an app in a pod talks through its
// sidecar; without HTTP_PROXY they go straight to the named host. Nothing here reads process.env at import
// time: each service's entry file reads its own env.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvHttpProxyAgent, request } from 'undici';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Headers copied from the incoming request to every outgoing one, as in Bookinfo's four services
 * (samples/bookinfo/src/*). The proxies start and end trace spans, but only the app can tie its incoming
 * request to its outgoing ones; `end-user` carries the signed-in user that Istio's request-routing task
 * matches on. https://istio.io/latest/docs/tasks/observability/distributed-tracing/overview/
 */
export const FORWARDED_HEADERS: readonly string[] = [
  'x-request-id', // access logs, consistent sampling
  'x-ot-span-context', // Lightstep
  'x-datadog-trace-id', 'x-datadog-parent-id', 'x-datadog-sampling-priority',
  'traceparent', 'tracestate', // W3C Trace Context
  'x-cloud-trace-context', 'grpc-trace-bin',
  'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'b3', // Zipkin
  'sw8', // SkyWalking
  'end-user', 'user-agent', // application headers
  'cookie', 'authorization', 'jwt', // session
];

/** The FORWARDED_HEADERS present on `incoming` (repeated headers joined as Node joins them). */
export function forwardHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = incoming[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Where this service listens: HOST (default 127.0.0.1) and PORT (default Bookinfo's 9080). */
export interface ListenConfig {
  readonly host: string;
  readonly port: number;
}

export function listenConfig(env: Env): ListenConfig {
  return { host: env['HOST'] ?? '127.0.0.1', port: portFrom('PORT', env['PORT']) };
}

/**
 * Base URL of a service this one calls: `<NAME>_HOSTNAME` (default the service name, e.g. `reviews`) and
 * `<NAME>_PORT`, or Bookinfo's `<NAME>_SERVICE_PORT`, default 9080. `name` is the lower-case service name.
 */
export function serviceUrl(env: Env, name: string): string {
  const key = name.toUpperCase();
  const host = env[`${key}_HOSTNAME`] ?? name;
  const portKey = env[`${key}_PORT`] !== undefined ? `${key}_PORT` : `${key}_SERVICE_PORT`;
  return `http://${host}:${portFrom(portKey, env[portKey])}`;
}

function portFrom(name: string, value: string | undefined): number {
  if (value === undefined || value === '') return 9080;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name}="${value}" is not a port number (0-65535)`);
  return n;
}

/** The outcome of one call: a response (any status) with its JSON body, or no usable response at all. */
export type CallResult =
  | { readonly kind: 'response'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'failed'; readonly reason: string };

export interface HttpClient {
  /** GET `url` expecting JSON; gives up after `timeoutMs` (connect, headers and body together). */
  getJson(url: string, headers: Record<string, string>, timeoutMs: number): Promise<CallResult>;
  close(): Promise<void>;
}

/**
 * The client every caller uses. undici's EnvHttpProxyAgent honours HTTP_PROXY/http_proxy and NO_PROXY;
 * `proxyTunnel: false` sends plain-HTTP requests to the proxy in absolute form (`GET http://reviews:9080/…`)
 * instead of opening a CONNECT tunnel, so the sidecar sees each request and can route, retry, delay or
 * abort it.
 */
export function createHttpClient(): HttpClient {
  const dispatcher = new EnvHttpProxyAgent({ proxyTunnel: false });
  return {
    async getJson(url, headers, timeoutMs) {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        // A copy: undici's proxy path adds `host` to the headers object it is given, and callers reuse theirs.
        const res = await request(url, { dispatcher, headers: { ...headers }, signal });
        const text = await res.body.text();
        try {
          return { kind: 'response', status: res.statusCode, body: text === '' ? undefined : JSON.parse(text) };
        } catch {
          return { kind: 'response', status: res.statusCode, body: undefined };
        }
      } catch (err) {
        const reason = signal.aborted ? `no response within ${timeoutMs} ms` : err instanceof Error ? err.message : String(err);
        return { kind: 'failed', reason };
      }
    },
    close: () => dispatcher.close(),
  };
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/**
 * Serves `handle` on `config`, prints `listening on http://HOST:PORT` (the real port when PORT=0), and on
 * SIGTERM or SIGINT stops accepting, lets requests in flight finish (for at most a few seconds), runs
 * `onStop`, and exits 0. A port it cannot bind is reported on stderr, with exit code 1.
 */
export async function serve(config: ListenConfig, handle: Handler, onStop?: () => Promise<void>): Promise<void> {
  const server = createServer((req, res) => {
    Promise.resolve()
      .then(() => handle(req, res))
      .catch((err: unknown) => {
        console.error(`${req.method ?? '?'} ${req.url ?? '?'} failed:`, err);
        if (!res.headersSent) sendText(res, 500, 'Internal Server Error');
        else res.destroy();
      });
  });
  // Handlers first: a supervisor may signal as soon as it reads the `listening on` line.
  const stop = (): void => {
    server.close(() => {
      void (onStop?.() ?? Promise.resolve()).finally(() => process.exit(0));
    });
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 3000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  await new Promise<void>((resolve) => {
    server.once('error', (err) => {
      console.error(`cannot listen on ${config.host}:${config.port}: ${err.message}`);
      process.exit(1);
    });
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  console.log(`listening on http://${host}:${port}`);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json', JSON.stringify(value));
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  send(res, status, 'text/plain; charset=utf-8', text);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  send(res, status, 'text/html; charset=utf-8', html);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The path of a request URL, without its query string. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
