// The proxy's admin HTTP server (Envoy's :15000) and readiness server (istio-agent's :15021).
// Admin: /config_dump (?include_eds adds the endpoints, as Envoy), /clusters (text; ?format=json for
// envoy.admin.v3.Clusters), /listeners, /ready (200 LIVE once initialized, else 503 with the state),
// /server_info. Readiness: /healthz/ready, 200 once the first config is applied, 503 before.

import { getHeapSpaceStatistics } from 'node:v8';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { IsthmusError } from '../../lib/errors.js';
import { configDump } from './config-dump.js';
import { clustersJson, clustersText } from './clusters-status.js';
import { listenersText } from './listeners-text.js';
import type { DumpSource, LoadedBootstrap } from './dump-source.js';
import type { StatsStore } from '../stats/stats-store.js';
import { parseStatsQuery, renderStatsJson, renderStatsText } from '../stats/admin-format.js';
import { renderPrometheus } from '../stats/prometheus-format.js';

export type ServerState = 'PRE_INITIALIZING' | 'INITIALIZING' | 'LIVE' | 'DRAINING';

export interface AdminSource extends DumpSource {
  readonly bootstrap: LoadedBootstrap;
  state(): ServerState;
  readonly stats?: StatsStore;
  /** Whether anything changed the log level: POST /logging?level=... */
  setLogLevel?(level: string): boolean;
  logLevel?(): string;
  readonly nodeId: string;
  readonly startedAt: number;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache, max-age=0' });
  res.end(body);
}

export function adminHandler(src: AdminSource): (req: IncomingMessage, res: ServerResponse) => void {
  const handle = adminRoutes(src);
  // A body that cannot be built (a config protobuf JSON cannot print) answers 500; it must not end the process.
  return (req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      if (!res.headersSent) send(res, 500, 'text/plain', `${e instanceof Error ? e.message : String(e)}\n`);
    }
  };
}

/**
 * Envoy's /memory (admin.v3.Memory, values as decimal strings): `allocated` and `heap_size` are V8's used
 * and reserved heap, `total_physical_bytes` the process's resident size; what V8 holds outside its heap
 * (ArrayBuffers: socket buffers, Wasm memories) is `isthmus_external` and the heap spaces follow.
 */
function memoryJson(): Record<string, unknown> {
  const m = process.memoryUsage();
  const spaces: Record<string, string> = {};
  for (const sp of getHeapSpaceStatistics()) spaces[sp.space_name] = String(sp.space_used_size);
  return {
    allocated: String(m.heapUsed),
    heap_size: String(m.heapTotal),
    pageheap_unmapped: '0',
    pageheap_free: String(m.heapTotal - m.heapUsed),
    total_thread_cache: '0',
    total_physical_bytes: String(m.rss),
    isthmus_external: String(m.external),
    isthmus_array_buffers: String(m.arrayBuffers),
    isthmus_heap_spaces: spaces,
  };
}

function adminRoutes(src: AdminSource): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    switch (path) {
      case '/stats': {
        if (src.stats === undefined) return send(res, 404, 'text/plain', 'no stats\n');
        const q = parseStatsQuery(url.searchParams);
        if (!q.ok) return send(res, 400, 'text/plain', q.message);
        if (q.value.format === 'prometheus') return send(res, 200, 'text/plain; version=0.0.4', renderPrometheus(src.stats, { usedOnly: q.value.usedOnly, ...(q.value.filter !== undefined ? { filter: q.value.filter } : {}) }));
        if (q.value.format === 'json') return send(res, 200, 'application/json', renderStatsJson(src.stats, q.value));
        return send(res, 200, 'text/plain', renderStatsText(src.stats, q.value));
      }
      case '/stats/prometheus':
        if (src.stats === undefined) return send(res, 404, 'text/plain', 'no stats\n');
        return send(res, 200, 'text/plain; version=0.0.4', renderPrometheus(src.stats));
      case '/logging': {
        if (req.method !== 'POST') return send(res, 400, 'text/plain', 'This endpoint requires POST\n');
        const level = url.searchParams.get('level');
        if (level !== null && src.setLogLevel?.(level) !== true) return send(res, 400, 'text/plain', `invalid log level: ${level}\n`);
        return send(res, 200, 'text/plain', `active loggers:\n  isthmus: ${src.logLevel?.() ?? 'info'}\n`);
      }
      case '/config_dump':
        return send(res, 200, 'application/json', `${JSON.stringify(configDump(src, { includeEds: url.searchParams.has('include_eds') }), null, 2)}\n`);
      case '/clusters':
        if (url.searchParams.get('format') === 'json') return send(res, 200, 'application/json', `${JSON.stringify(clustersJson(src), null, 2)}\n`);
        return send(res, 200, 'text/plain', clustersText(src));
      case '/listeners':
        return send(res, 200, 'text/plain', listenersText(src));
      case '/ready': {
        const s = src.state();
        return send(res, s === 'LIVE' ? 200 : 503, 'text/plain', `${s}\n`);
      }
      case '/server_info':
        return send(
          res,
          200,
          'application/json',
          `${JSON.stringify({ version: 'isthmus', state: src.state(), node: { id: src.nodeId }, uptime_current_epoch: `${Math.floor((Date.now() - src.startedAt) / 1000)}s` }, null, 2)}\n`,
        );
      case '/memory':
        return send(res, 200, 'application/json', `${JSON.stringify(memoryJson(), null, 2)}\n`);
      case '/':
        return send(res, 200, 'text/plain', 'admin commands are:\n  /clusters\n  /config_dump\n  /listeners\n  /logging\n  /memory\n  /ready\n  /server_info\n  /stats\n  /stats/prometheus\n');
      default:
        return send(res, 404, 'text/plain', `invalid path: ${path}\n`);
    }
  };
}

/** Envoy's :15090 prometheus listener: /stats/prometheus only. */
export function prometheusHandler(stats: StatsStore): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://prom').pathname;
    if (path !== '/stats/prometheus') return send(res, 404, 'text/plain', 'not found\n');
    send(res, 200, 'text/plain; version=0.0.4', renderPrometheus(stats));
  };
}

export function readinessHandler(src: Pick<AdminSource, 'state'>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://ready').pathname;
    if (path !== '/healthz/ready') return send(res, 404, 'text/plain', 'not found\n');
    const s = src.state();
    send(res, s === 'LIVE' ? 200 : 503, 'text/plain', s === 'LIVE' ? '' : `not ready: server state ${s}\n`);
  };
}

export interface Listening {
  readonly url: string;
  close(): Promise<void>;
}

/** Listens `handler` on host:port (0 picks a free port); errors name what failed to listen. */
export function listenHttp(what: string, host: string, port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listening> {
  const server: Server = createServer(handler);
  return new Promise((ok, fail) => {
    server.once('error', (e) => fail(new IsthmusError('ISM_LISTEN', `cannot listen for ${what} on ${host}:${port}: ${e.message}`)));
    server.listen(port, host, () => {
      const a = server.address();
      const p = typeof a === 'object' && a !== null ? a.port : port;
      ok({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${p}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
