// The data plane's composition: from a bootstrap, the ADS client and the admin and readiness servers.
// No traffic listeners yet (they come with the runtime tables): the proxy fetches, validates, ACKs/NACKs
// and exposes its config exactly as Envoy's admin does.

import type { Logger } from '../lib/logger.js';
import type { ProxyBootstrap } from './bootstrap.js';
import { AdsClient, type AdsClientOptions } from './xds-client/ads-client.js';
import { adminHandler, listenHttp, readinessHandler, type Listening, type ServerState } from './admin/admin-server.js';

export interface ProxyOptions {
  readonly bootstrap: ProxyBootstrap;
  /** Overrides the bootstrap's admin port (0 picks a free one). */
  readonly adminPort?: number;
  /** istio-agent's readiness port, 15021 by default (0 picks a free one). */
  readonly readinessPort?: number;
  readonly readinessHost?: string;
  readonly logger?: Logger;
  readonly extraChecks?: AdsClientOptions['extraChecks'];
}

export interface RunningProxy {
  readonly adminUrl: string;
  readonly readinessUrl: string;
  readonly xds: AdsClient;
  state(): ServerState;
  close(): Promise<void>;
}

export async function startProxy(o: ProxyOptions): Promise<RunningProxy> {
  const b = o.bootstrap;
  const xds = new AdsClient({
    address: b.xdsAddress,
    node: b.node,
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
    ...(o.extraChecks !== undefined ? { extraChecks: o.extraChecks } : {}),
  });
  let live = false;
  const state = (): ServerState => {
    if (!live && xds.initialized()) live = true;
    return live ? 'LIVE' : xds.connected ? 'INITIALIZING' : 'PRE_INITIALIZING';
  };
  const startedAt = Date.now();
  const src = { table: xds.table.bind(xds), typeState: xds.typeState.bind(xds), state, nodeId: b.nodeId, startedAt };
  const admin = await listenHttp('admin', b.admin.host, o.adminPort ?? b.admin.port, adminHandler(src));
  let ready: Listening;
  try {
    ready = await listenHttp('readiness', o.readinessHost ?? b.admin.host, o.readinessPort ?? 15021, readinessHandler(src));
  } catch (e) {
    await admin.close();
    throw e;
  }
  xds.start();
  return {
    adminUrl: admin.url,
    readinessUrl: `${ready.url}/healthz/ready`,
    xds,
    state,
    async close() {
      xds.close();
      await Promise.all([admin.close(), ready.close()]);
    },
  };
}
