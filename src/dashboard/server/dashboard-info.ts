// GET /api/dashboard on the control plane's monitoring port: where the dashboard listens and its login
// token, for `isthmus dashboard` (as `kubectl create token` hands out Kiali's). The monitoring port is
// the control plane's admin surface already (it applies config and issues workload tokens), so whoever
// reaches it may log in to the dashboard; keep it on loopback unless the network is trusted.
// 404 when the control plane runs without a dashboard.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DashboardInfo } from '../shared/api-types.js';

export const DASHBOARD_INFO_PATH = '/api/dashboard';

export function dashboardInfoHandler(info: () => DashboardInfo | undefined): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== DASHBOARD_INFO_PATH) return false;
    const value = info();
    const [status, body] =
      req.method !== 'GET' && req.method !== 'HEAD'
        ? [405, { error: `method ${req.method ?? ''} not allowed` }]
        : value === undefined
          ? [404, { error: 'this control plane runs without a dashboard (start it with --dashboard-port)' }]
          : [200, value];
    const text = JSON.stringify(body, null, 2) + '\n';
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
    return true;
  };
}
