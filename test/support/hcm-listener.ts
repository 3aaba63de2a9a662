// One HTTP connection manager listener on 127.0.0.1 (port 0), compiled from LDS as the proxy compiles it, in a
// ListenerManager of its own: for tests of the connection manager through real sockets. The routes are inline;
// `hcm` sets the HttpConnectionManager's other fields (stat_prefix defaults to the listener's name).

import assert from 'node:assert/strict';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { createLogger } from '../../src/lib/logger.js';
import { seededRandom, type Random } from '../../src/proxy/lib/random.js';
import { compileListener, type CompiledListener } from '../../src/proxy/runtime/compile-listener.js';
import { ListenerManager } from '../../src/proxy/network/listener-manager.js';
import { NO_SECRETS } from '../../src/proxy/upstream/connection-pools.js';
import type { ClusterManager } from '../../src/proxy/upstream/cluster-manager.js';
import type { CompletedStream } from '../../src/proxy/http/hcm-env.js';
import type { StatsStore } from '../../src/proxy/stats/stats-store.js';
import type { HttpConnectionManagerSchema } from '../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { RouteConfiguration } from '../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import { filterChain, hcmFilter, listener } from './xds-fixtures.js';

export interface HcmListenerOptions {
  readonly routes: RouteConfiguration;
  readonly hcm?: MessageInitShape<typeof HttpConnectionManagerSchema>;
  /** Where the routes' clusters are (none by default). */
  readonly clusters?: ClusterManager;
  readonly stats?: StatsStore;
  readonly onStreamComplete?: (s: CompletedStream) => void;
  /** The listener's per_connection_buffer_limit_bytes (unset: Envoy's default). */
  readonly bufferLimit?: number;
  /** The proxy's randomness (retry back-off jitter, sampling); a fixed seed by default. */
  readonly random?: Random;
}

export interface HcmListener {
  readonly port: number;
  readonly manager: ListenerManager;
}

export async function startHcmListener(name: string, o: HcmListenerOptions): Promise<HcmListener> {
  const clusters = o.clusters;
  const manager = new ListenerManager({
    env: {
      routeTable: () => undefined,
      cluster: (n) => clusters?.get(n),
      random: o.random ?? seededRandom(7),
      secrets: NO_SECRETS,
      onStreamComplete: o.onStreamComplete ?? (() => undefined),
      ...(o.stats !== undefined ? { stats: o.stats } : {}),
    },
    secrets: NO_SECRETS,
    logger: createLogger('error', () => undefined),
  });
  const hcm = hcmFilter({ routeConfig: o.routes }, { statPrefix: name, ...o.hcm });
  const l = listener({ name, address: '127.0.0.1', port: 0, chains: [filterChain({ name, filters: [hcm] })] });
  if (o.bufferLimit !== undefined) l.perConnectionBufferLimitBytes = o.bufferLimit;
  const r = compileListener(l);
  if (!r.ok) throw new Error(r.problems.join('; '));
  assert.deepEqual(await manager.apply(new Map<string, CompiledListener>([[name, r.value]])), []);
  return { port: manager.bound().find((b) => b.name === name)?.port ?? 0, manager };
}

export interface HcmListeners {
  /** Each listener's port, by its name. */
  readonly ports: Readonly<Record<string, number>>;
  close(): void;
}

/** One listener per entry of `variants` (named by its key, with those HttpConnectionManager fields), the rest as `o`. */
export async function startHcmListeners(variants: Readonly<Record<string, MessageInitShape<typeof HttpConnectionManagerSchema>>>, o: Omit<HcmListenerOptions, 'hcm'>): Promise<HcmListeners> {
  const ports: Record<string, number> = {};
  const managers: ListenerManager[] = [];
  for (const [name, hcm] of Object.entries(variants)) {
    const l = await startHcmListener(name, { ...o, hcm });
    managers.push(l.manager);
    ports[name] = l.port;
  }
  return { ports, close: () => managers.forEach((m) => m.close()) };
}

/** The end of a listener test: its listeners and clusters, then its upstream server with the connections still open. */
export async function closeAll(closables: readonly { close(): void }[], upstream: { closeAllConnections(): void; close(cb: (err?: Error) => void): unknown }): Promise<void> {
  for (const c of closables) c.close();
  upstream.closeAllConnections();
  await new Promise<void>((ok) => upstream.close(() => ok()));
}
