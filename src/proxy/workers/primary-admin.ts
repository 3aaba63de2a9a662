// The admin (:15000) and Prometheus (:15090) handlers of a multi-worker proxy. Everything but stats is the
// single-process admin (admin-server.ts) over the primary's xDS tables; /stats and /stats/prometheus first
// gather every worker's stats (WorkerPool.stats) and then render the merged store with the same code.
// /server_info adds Envoy's command_line_options.concurrency (envoy/admin/v3/server_info.proto).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { adminHandler, prometheusHandler, type AdminSource } from '../admin/admin-server.js';
import { StatsStore } from '../stats/stats-store.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** For paths the Prometheus server does not serve (it answers them 404 without reading stats). */
const EMPTY = new StatsStore();

function fail(res: ServerResponse, e: unknown): void {
  res.writeHead(500, { 'content-type': 'text/plain' });
  res.end(`cannot gather worker stats: ${e instanceof Error ? e.message : String(e)}\n`);
}

export function primaryAdminHandler(src: Omit<AdminSource, 'stats'>, gather: () => Promise<StatsStore>, concurrency: number): Handler {
  const plain = adminHandler(src);
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    if (path === '/stats' || path === '/stats/prometheus') {
      gather().then((stats) => adminHandler({ ...src, stats })(req, res), (e: unknown) => fail(res, e));
      return;
    }
    if (path === '/server_info') {
      const body = {
        version: 'isthmus',
        state: src.state(),
        node: { id: src.nodeId },
        uptime_current_epoch: `${Math.floor((Date.now() - src.startedAt) / 1000)}s`,
        command_line_options: { concurrency },
      };
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, max-age=0' });
      res.end(`${JSON.stringify(body, null, 2)}\n`);
      return;
    }
    plain(req, res);
  };
}

export function primaryPrometheusHandler(gather: () => Promise<StatsStore>): Handler {
  return (req, res) => {
    if (new URL(req.url ?? '/', 'http://prom').pathname !== '/stats/prometheus') return prometheusHandler(EMPTY)(req, res);
    gather().then((stats) => prometheusHandler(stats)(req, res), (e: unknown) => fail(res, e));
  };
}
