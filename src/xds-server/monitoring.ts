// The control plane's monitoring and debug HTTP server (istiod's :15014):
//   /metrics                         Prometheus text (the DiscoveryServer's own registry)
//   /ready                           200 once a snapshot is set, 503 before
//   /debug/syncz[?namespace=]        JSON array of istiod-style SyncStatus entries
//   /debug/config_dump?proxyID=      what the server would send the proxy now (Envoy config_dump shape)
//   /debug/proxy_status?proxyID=     acked vs expected resources per type
//   anything `extra` answers          e.g. the control plane's /api/metrics* (src/dashboard/server/metrics-api.ts)
// Debug output is unauthenticated: bind it to loopback unless the network is trusted (istiod serves
// its debug endpoints unauthenticated only to localhost).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { DiscoveryServer } from './ads-server.js';

export interface MonitoringServer {
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value, null, 2) + '\n', 'application/json');
}

function text(res: ServerResponse, status: number, body: string): void {
  send(res, status, body.endsWith('\n') ? body : body + '\n', 'text/plain; charset=utf-8');
}

function proxyIdOf(url: URL, res: ServerResponse): string | undefined {
  const id = url.searchParams.get('proxyID') ?? '';
  if (id === '') {
    text(res, 400, 'You must provide a proxyID in the query string (e.g. ?proxyID=reviews-v1-abc.default)');
    return undefined;
  }
  return id;
}

/** `extra` is asked first and answers the paths it owns by returning true (the server knows nothing of them). */
export function monitoringHandler(ds: DiscoveryServer, extra?: (req: IncomingMessage, res: ServerResponse) => boolean): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (extra?.(req, res) === true) return;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      text(res, 405, `method ${req.method ?? ''} not allowed on ${url.pathname}`);
      return;
    }
    switch (url.pathname) {
      case '/metrics':
        ds.metrics.text().then(
          (body) => send(res, 200, body, ds.metrics.contentType),
          (e: unknown) => text(res, 500, `cannot collect metrics: ${e instanceof Error ? e.message : String(e)}`),
        );
        return;
      case '/ready':
        if (ds.ready) text(res, 200, 'ready');
        else text(res, 503, 'not ready: no config snapshot yet');
        return;
      case '/debug/syncz':
        json(res, 200, ds.syncz(url.searchParams.get('namespace') ?? undefined));
        return;
      case '/debug/config_dump': {
        const id = proxyIdOf(url, res);
        if (id === undefined) return;
        const r = ds.configDump(id);
        if (r.ok) json(res, 200, r.dump);
        else text(res, r.status, r.message);
        return;
      }
      case '/debug/proxy_status': {
        const id = proxyIdOf(url, res);
        if (id === undefined) return;
        const s = ds.proxyStatus(id);
        if (s === undefined) text(res, 404, `proxy ${JSON.stringify(id)} is not connected to this control plane`);
        else json(res, 200, s);
        return;
      }
      default:
        text(res, 404, `no such endpoint: ${url.pathname} (try /metrics, /ready, /debug/syncz, /debug/config_dump?proxyID=, /debug/proxy_status?proxyID=)`);
    }
  };
}

/** Starts the monitoring server; port 0 picks a free port. Host defaults to loopback. */
export async function startMonitoringServer(ds: DiscoveryServer, opts: { port: number; host?: string }): Promise<MonitoringServer> {
  const host = opts.host ?? '127.0.0.1';
  const server: Server = createServer(monitoringHandler(ds));
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(new Error(`cannot listen for monitoring on ${host}:${opts.port}: ${e.message}`));
    server.once('error', onError);
    server.listen(opts.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    port,
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
