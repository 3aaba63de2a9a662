// `isthmus proxy` as a real CLI child process (a primary and its workers with --concurrency), as the
// concurrency tests start it: its output kept, every process of it killed when the test ends, and the
// admin, readiness and Prometheus addresses it prints once it has started.

import type { TestContext } from 'node:test';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { startIsthmus } from './cli.js';
import { alive, childPids } from './processes.js';
import { waitFor } from './wait.js';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envoyBootstrap } from '../../src/cli/bootstrap.js';
import type { ProxyResources } from '../../src/translate/resources.js';
import type { Cluster } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { HttpFilter } from '../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { VirtualHostSchema } from '../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import { startHarness } from './xds-server/harness.js';
import { fakeSnapshot } from './xds-server/fake-mesh.js';
import { filterChain, hcmFilter, listener, prefix, route, routeConfig, toCluster, vhost } from './xds-fixtures.js';
import { freePort } from './data-plane.js';

export interface ProxyChild {
  readonly child: ChildProcessWithoutNullStreams;
  readonly admin: string;
  readonly readiness: string;
  readonly prometheus: string;
  /** What it printed so far. */
  out(): string;
  err(): string;
  /** Its exit code, once it exits. */
  readonly exited: Promise<number | null>;
}

/** Starts `isthmus proxy <args>`; resolves once its output names its addresses and matches `started` (by default the readiness line). */
export async function startProxyChild(t: TestContext, args: readonly string[], started: RegExp = /readiness +(\S+)/): Promise<ProxyChild> {
  const child = startIsthmus(['proxy', ...args]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  t.after(() => {
    for (const pid of [...childPids(child.pid ?? 0), child.pid ?? 0]) if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  });
  await waitFor(() => started.test(out) && /readiness +(\S+)/.test(out), 'the proxy to start', 60_000).catch((e: Error) => {
    throw new Error(`${e.message}\nstdout: ${out}\nstderr: ${err}`);
  });
  return {
    child,
    admin: /admin +(\S+)/.exec(out)?.[1] ?? '',
    readiness: /readiness +(\S+)/.exec(out)?.[1] ?? '',
    prometheus: /prometheus +(\S+)/.exec(out)?.[1] ?? '',
    out: () => out,
    err: () => err,
    exited,
  };
}

/** What the routing proxy's connection manager has besides its one route: its HTTP filters, the virtual host's other fields. */
export interface RoutingOptions {
  /** The HTTP filters, the router last (default: the router alone). */
  readonly httpFilters?: readonly HttpFilter[];
  readonly virtualHost?: MessageInitShape<typeof VirtualHostSchema>;
}

/**
 * `isthmus proxy --concurrency <n>` (a CLI child, fed by a real xDS server) with one listener on 127.0.0.1 routing
 * everything to `cluster`; resolves once the proxy is ready, with the listener's port.
 */
export async function startRoutingProxy(t: TestContext, cluster: Cluster, concurrency = 2, http: RoutingOptions = {}): Promise<ProxyChild & { readonly port: number }> {
  const port = await freePort();
  const routes = routeConfig('local', [vhost('all', ['*'], [route('all', prefix('/'), toCluster(cluster.name))], http.virtualHost ?? {})]);
  const hcm = hcmFilter({ routeConfig: routes }, http.httpFilters !== undefined ? { httpFilters: [...http.httpFilters] } : {});
  const l = listener({ name: 'gw', address: '127.0.0.1', port, chains: [filterChain({ name: 'gw', filters: [hcm] })] });
  const resources: ProxyResources = { listeners: [l], routes: [], clusters: [cluster], endpoints: [], secrets: [], issues: [] };
  const harness = await startHarness({ translate: () => resources, snapshot: fakeSnapshot('1', []) });
  t.after(() => harness.close());
  const bootFile = join(tmpdir(), `isthmus-routing-proxy-${process.pid}-${port}.json`);
  t.after(() => rm(bootFile, { force: true }));
  await writeFile(
    bootFile,
    JSON.stringify(envoyBootstrap({ node: 'gw', proxyless: false, xdsAddress: harness.ads.address, namespace: 'default', type: 'router', ip: '127.0.0.1', labels: {}, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' } })),
  );
  const proxy = await startProxyChild(t, ['--bootstrap', bootFile, '--concurrency', String(concurrency), '--bind-address', '127.0.0.1', '--admin-port', '0', '--readiness-port', '0', '--prometheus-port', '0']);
  await waitFor(async () => (await fetch(proxy.readiness)).status === 200, 'readiness 200', 60_000);
  return { ...proxy, port };
}
