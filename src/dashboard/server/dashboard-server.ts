// `isthmus dashboard`'s server (Kiali's place in Istio): the built web app and its JSON API on a port of
// its own (20001 by default, as Kiali's). Nothing but the login page and its assets is served without a
// session: API calls answer 401, pages redirect to /login?next=<page>. The API:
//   POST /api/login {token}      -> 204 + the session cookie; 401 for a wrong token
//   POST /api/logout             -> 204, the cookie cleared
//   GET  /api/graph?window=&namespace=   the service graph (window: 30s, 1m, ...; default 1m)
//   GET  /api/config             every resource with its validation and analyzer messages and YAML
//   GET  /api/proxies            the connected proxies (proxy-status)
//   GET  /api/proxies/<id>/<listeners|routes|clusters|endpoints>   a proxy-config table
//   GET  /api/services?window=, /api/workloads?window=     the lists, with inbound requests/s and errors (default 1m)
//   GET  /api/services/<ns>/<name>?window=, /api/workloads/<ns>/<name>?window=
//                                 one's charts, peers, proxies and applied config (default 10m); 404 if unknown
// Any other GET with a session is the web app's page (index.html), which routes on the path itself.
// The data comes from the caller's functions: this module knows HTTP, sessions and assets, nothing of
// how the control plane is put together.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { silentLogger } from '../../lib/logger.js';
import type { SyncStatus } from '../../xds-server/sync-status.js';
import { LOGIN_PATH, PROXY_SECTIONS, type ConfigResponse, type GraphResponse, type ProxySection, type ProxyTableResponse } from '../shared/api-types.js';
import { MeshPages, type MeshSources } from './mesh-pages.js';
import { parseDurationMs } from './metrics-api.js';
import { adminUrlOf, proxyRows, type ProxyTables } from './proxy-view.js';
import { SessionAuth } from './session-auth.js';
import { WebAssets, defaultWebRoot } from './web-assets.js';

export const DEFAULT_DASHBOARD_PORT = 20001;
const DEFAULT_WINDOW_MS = 60_000;
/** The charts of a service or workload page cover 10 minutes unless asked (at most the metrics' retention). */
const DEFAULT_CHART_WINDOW_MS = 10 * 60_000;
/** Served without a session: the login page and what it loads. */
const PUBLIC_ASSETS = new Set(['/assets/login.js', '/assets/login.js.map', '/assets/style.css', '/assets/favicon.svg']);
const MAX_LOGIN_BODY = 4096;

export interface DashboardSources extends MeshSources {
  graph(o: { windowMs: number; namespace?: string }): GraphResponse;
  config(): ConfigResponse;
  proxies(): readonly SyncStatus[];
  readonly proxyTables: ProxyTables;
  /** The longest graph window the metrics cover (their retention). */
  readonly maxWindowMs: number;
}

export interface DashboardOptions extends DashboardSources {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly clock: Clock;
  /** Default: a random token. */
  readonly token?: string;
  /** The built web app; default dist/dashboard-web of this package. */
  readonly webRoot?: string;
  readonly logger?: Logger;
}

export interface RunningDashboard {
  /** `http://host:port` */
  readonly url: string;
  readonly loginUrl: string;
  readonly token: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // Everything the app uses is its own: no CDN, no inline script.
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
} as const;

function send(res: ServerResponse, status: number, body: string | Buffer, contentType: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(value), 'application/json', extra);
}

function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((ok, fail) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        ok(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

function tokenOf(body: string): string | undefined {
  try {
    const v = JSON.parse(body) as unknown;
    if (typeof v === 'object' && v !== null && 'token' in v && typeof v.token === 'string') return v.token.trim();
  } catch {
    // not JSON: a form post (token=...) is accepted too
  }
  const t = new URLSearchParams(body).get('token');
  return t === null ? undefined : t.trim();
}

/** The request handler (without a listening socket): auth, API and assets. */
export function createDashboardHandler(o: DashboardSources & { readonly auth: SessionAuth; readonly assets: WebAssets; readonly clock: Clock; readonly logger?: Logger }): (req: IncomingMessage, res: ServerResponse) => void {
  const logger = o.logger ?? silentLogger;
  const page = async (res: ServerResponse, file: string): Promise<void> => {
    const a = await o.assets.get(file);
    if (a === undefined) send(res, 503, `The dashboard's web app is not built (${o.assets.root}${file} is missing): run node scripts/build-dashboard.mjs\n`, 'text/plain; charset=utf-8');
    else send(res, 200, a.body, a.contentType);
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const method = req.method ?? 'GET';
    if (url.pathname === '/api/login') {
      if (method !== 'POST') return sendJson(res, 405, { error: 'POST {"token": "..."} to log in' });
      const body = await readBody(req, MAX_LOGIN_BODY);
      const token = body === undefined ? undefined : tokenOf(body);
      const session = token === undefined ? undefined : o.auth.login(token);
      if (session === undefined) return sendJson(res, 401, { error: 'invalid token' });
      res.writeHead(204, { ...SECURITY_HEADERS, 'set-cookie': o.auth.sessionCookie(session), 'cache-control': 'no-store' });
      return void res.end();
    }
    if (!o.auth.authenticated(req.headers.cookie)) return sendJson(res, 401, { error: `not logged in: POST your token to /api/login (the login page is ${LOGIN_PATH})` });
    if (url.pathname === '/api/logout') {
      if (method !== 'POST') return sendJson(res, 405, { error: 'POST to log out' });
      o.auth.logout(req.headers.cookie);
      res.writeHead(204, { ...SECURITY_HEADERS, 'set-cookie': o.auth.clearedCookie() });
      return void res.end();
    }
    if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, { error: `method ${method} not allowed on ${url.pathname}` });
    /** The `window` parameter in ms; undefined after answering 400. */
    const windowOf = (fallbackMs: number): number | undefined => {
      const raw = url.searchParams.get('window') ?? '';
      const windowMs = raw === '' ? Math.min(fallbackMs, o.maxWindowMs) : parseDurationMs(raw);
      if (windowMs !== undefined && windowMs <= o.maxWindowMs) return windowMs;
      sendJson(res, 400, { error: `invalid window "${raw}": expected a duration such as 10s, 1m or 5m, at most ${o.maxWindowMs / 1000}s` });
      return undefined;
    };
    if (url.pathname === '/api/graph') {
      const windowMs = windowOf(DEFAULT_WINDOW_MS);
      if (windowMs === undefined) return;
      const namespace = url.searchParams.get('namespace') ?? '';
      return sendJson(res, 200, o.graph({ windowMs, ...(namespace !== '' ? { namespace } : {}) }));
    }
    const mesh = /^\/api\/(services|workloads)(?:\/([^/]+)\/([^/]+))?$/.exec(url.pathname);
    if (mesh !== null) {
      const [, what, ns, name] = mesh;
      const windowMs = windowOf(ns === undefined ? DEFAULT_WINDOW_MS : DEFAULT_CHART_WINDOW_MS);
      if (windowMs === undefined) return;
      const pages = new MeshPages(o, o.proxies(), { windowMs, now: o.clock.now() });
      if (ns === undefined || name === undefined) return sendJson(res, 200, what === 'services' ? pages.services() : pages.workloads());
      const [namespace, n] = [decodeURIComponent(ns), decodeURIComponent(name)];
      const detail = what === 'services' ? pages.service(namespace, n) : pages.workload(namespace, n);
      if (detail === undefined) return sendJson(res, 404, { error: `no ${what === 'services' ? 'service' : 'workload'} ${n} in namespace ${namespace}` });
      return sendJson(res, 200, detail);
    }
    if (url.pathname === '/api/config') return sendJson(res, 200, o.config());
    if (url.pathname === '/api/proxies') return sendJson(res, 200, proxyRows(o.proxies()));
    const m = /^\/api\/proxies\/([^/]+)\/([a-z]+)$/.exec(url.pathname);
    if (m !== null) {
      const id = decodeURIComponent(m[1] ?? '');
      const section = m[2] as ProxySection;
      if (!PROXY_SECTIONS.includes(section)) return sendJson(res, 404, { error: `no such table "${section}": one of ${PROXY_SECTIONS.join(', ')}` });
      const admin = adminUrlOf(o.proxies(), id);
      if (admin === undefined) return sendJson(res, 404, { error: `no connected proxy ${id} with a known admin address` });
      try {
        const body: ProxyTableResponse = { proxy: id, section, table: await o.proxyTables(admin, section) };
        return sendJson(res, 200, body);
      } catch (e) {
        return sendJson(res, 502, { error: e instanceof Error ? e.message : String(e) });
      }
    }
    return sendJson(res, 404, { error: `no such endpoint: ${url.pathname}` });
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (url.pathname.startsWith('/api/')) return api(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', 'text/plain; charset=utf-8');
    if (url.pathname === LOGIN_PATH) return page(res, '/login.html');
    if (PUBLIC_ASSETS.has(url.pathname)) return page(res, url.pathname);
    if (!o.auth.authenticated(req.headers.cookie)) {
      const next = url.pathname === '/' ? '' : `?next=${encodeURIComponent(url.pathname + url.search)}`;
      res.writeHead(302, { ...SECURITY_HEADERS, location: `${LOGIN_PATH}${next}`, 'cache-control': 'no-store' });
      return void res.end();
    }
    if (url.pathname.startsWith('/assets/')) {
      const a = await o.assets.get(url.pathname);
      return a === undefined ? send(res, 404, 'not found\n', 'text/plain; charset=utf-8') : send(res, 200, a.body, a.contentType);
    }
    return page(res, '/index.html');
  };

  return (req, res) => {
    route(req, res).catch((e: unknown) => {
      logger.warn('dashboard request failed', { path: req.url ?? '', error: e instanceof Error ? e.message : String(e) });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };
}

/** Starts the dashboard server; rejects when the port cannot be bound. */
export async function startDashboard(o: DashboardOptions): Promise<RunningDashboard> {
  const auth = new SessionAuth({ clock: o.clock, ...(o.token !== undefined ? { token: o.token } : {}) });
  const assets = new WebAssets(o.webRoot ?? defaultWebRoot());
  const server: Server = createServer(
    createDashboardHandler({
      ...o,
      auth,
      assets,
      graph: (q) => o.graph(q),
      config: () => o.config(),
      proxies: () => o.proxies(),
      snapshot: () => o.snapshot(),
      configEntries: () => o.configEntries(),
      proxyNodes: () => o.proxyNodes(),
    }),
  );
  const port = await new Promise<number>((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port, o.host, () => {
      const a = server.address();
      ok(typeof a === 'object' && a !== null ? a.port : o.port);
    });
  });
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${host}:${port}`;
  return {
    url,
    loginUrl: `${url}${LOGIN_PATH}`,
    token: auth.token,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
