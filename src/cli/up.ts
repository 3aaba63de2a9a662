// `isthmus up [folder]`: the whole mesh on this machine with one command (src/cli/up/local-mesh.ts):
// control plane, a sidecar per pod, the ingress gateway and the apps themselves. Prints what runs and
// where (the dashboard's login URL and token among it), reports crashes and restarts, and stops everything
// on Ctrl-C.

import type { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { KindRegistry } from '../api/kind.js';
import { IsthmusError } from '../lib/errors.js';
import { parseOutputFormat, renderData, renderTable, type CliIO } from './output.js';
import { defaultLauncher, type Launcher } from './up/launch.js';
import { startLocalMesh, type RunningLocalMesh } from './up/local-mesh.js';
import { readMeshConfigFile } from './mesh-config-file.js';
import { DEFAULT_DASHBOARD_PORT } from '../dashboard/server/dashboard-server.js';
import { pilotFeaturesFromEnv } from '../model/pilot-features.js';

export interface UpDeps {
  readonly io: CliIO;
  readonly registry: KindRegistry;
  readonly stopSignal: () => Promise<void>;
  readonly launcher?: Launcher;
  /** Where the control plane's PILOT_* feature variables are read from, once at start; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

function port(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new IsthmusError('ISM_USAGE', `invalid ${name} "${v}": must be a port number 0-65535`);
  return n;
}

export function summary(mesh: RunningLocalMesh): Record<string, unknown> {
  return {
    controlPlane: { xds: mesh.cp.xdsAddress, monitoring: mesh.cp.monitoringUrl },
    ...(mesh.cp.dashboard !== undefined ? { dashboard: mesh.cp.dashboard } : {}),
    ...(mesh.ingressUrl !== undefined ? { ingress: mesh.ingressUrl } : {}),
    pods: mesh.pods().map((p) => ({ ...p, pids: Object.fromEntries([...mesh.pids()].filter(([n]) => n.startsWith(`${p.name} (`))) })),
    /** Every process the mesh runs, by name (`proxies` hosts the pods' proxies unless --isolate-proxies). */
    processes: Object.fromEntries(mesh.pids()),
  };
}

export function registerUp(program: Command, deps: UpDeps): void {
  const { io } = deps;
  program
    .command('up')
    .description('Run a whole mesh on this machine: control plane, sidecars, ingress gateway and the apps the folder declares')
    .argument('[folder]', 'the config folder (Kubernetes Deployments and Services, Istio config); default: the bundled Bookinfo demo')
    .option('--ingress-port <port>', "port on 127.0.0.1 for the ingress gateway's HTTP listener (8080 in the config)", '8080')
    .option('--xds-port <port>', 'control plane ADS port', '15010')
    .option('--monitoring-port <port>', 'control plane monitoring, debug and workload API port', '15014')
    .option('--isolate-proxies', 'run each proxy in a process of its own (default: one process hosts every pod\'s proxy, which starts faster and uses far less memory)')
    .option('--mesh-config <file>', "mesh-wide settings (istiod's mesh config), as the MeshConfig YAML or Istio's `istio` ConfigMap")
    .option('--cacerts <folder>', "Istio's cacerts folder for the CA (default: a self-signed root made at start)")
    .option('--dashboard-port <port>', 'the dashboard (service graph, config, proxies; log in with the token printed); 0 picks a free port', String(DEFAULT_DASHBOARD_PORT))
    .option('--metrics-interval <ms>', "how often the proxies' Istio metrics are scraped for the dashboard, in milliseconds", '5000')
    .option('--address-base <n>', 'the first pod address index (1 is 127.10.0.1, 255 is 127.10.1.1): a second mesh on this machine needs a range of its own', '1')
    .option('--logs', "print every line the apps and proxies write, prefixed with the process's name")
    .option('-o, --output <format>', 'how to print the mesh once it is ready: table, json or yaml', 'table')
    .addHelpText(
      'after',
      `
Each Deployment's pods run here: the app (the container's command, or a bundled demo image) and its
sidecar proxy, each pod on a loopback address of its own (127.10.0.N) so ports stay as configured.
Apps reach other services by name through their sidecar (HTTP_PROXY is set for them) and listen on
$HOST:$PORT. A pod that crashes is restarted and reported. Config changes in the folder apply live.

The control plane reads istiod's PILOT_ENABLE_PERSISTENT_SESSION_FILTER, PILOT_PERSISTENT_SESSION_LABEL,
PILOT_PERSISTENT_SESSION_HEADER_LABEL and PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS from the environment
once at start (control-plane --help).

Examples:
  isthmus up                                  # the Bookinfo demo: http://127.0.0.1:8080/productpage
                                              # and its dashboard: http://127.0.0.1:20001 (token printed)
  isthmus up ./my-mesh --ingress-port 9000
  isthmus proxy-status                        # from another terminal
  isthmus request --from productpage http://reviews:9080/reviews/0`,
    )
    .action(async (folder: string | undefined, opts: { ingressPort: string; xdsPort: string; monitoringPort: string; dashboardPort: string; metricsInterval: string; addressBase: string; logs?: boolean; isolateProxies?: boolean; output: string; meshConfig?: string; cacerts?: string }, cmd: Command) => {
      const format = parseOutputFormat(opts.output);
      const launcher = deps.launcher ?? defaultLauncher();
      const dir = folder !== undefined ? resolve(io.cwd, folder) : launcher.demoConfig;
      const st = await stat(dir).catch(() => undefined);
      if (st === undefined || !st.isDirectory()) throw new IsthmusError('ISM_FILE_READ', `cannot read config ${folder ?? dir}: not a folder`);
      const metricsScrapeIntervalMs = Number(opts.metricsInterval);
      if (!Number.isFinite(metricsScrapeIntervalMs) || metricsScrapeIntervalMs <= 0) throw new IsthmusError('ISM_USAGE', `invalid --metrics-interval "${opts.metricsInterval}": must be a number of milliseconds > 0`);
      const dashboardPort = port('--dashboard-port', opts.dashboardPort);
      const addressBase = Number(opts.addressBase);
      if (!Number.isInteger(addressBase) || addressBase < 1 || addressBase > 60000) throw new IsthmusError('ISM_USAGE', `invalid --address-base "${opts.addressBase}": must be an integer from 1 to 60000`);
      const meshConfig = await readMeshConfigFile(opts.meshConfig !== undefined ? resolve(io.cwd, opts.meshConfig) : undefined);
      const stopped = deps.stopSignal();
      const t0 = Date.now();
      const say = (line: string): void => io.stderr(line + '\n');
      say(`isthmus up: ${folder ?? 'the Bookinfo demo'} (${dir})`);
      // istiod's feature flags (persistent sessions), read once; a refused value keeps the default, reported.
      const { features, problems } = pilotFeaturesFromEnv(deps.env ?? process.env);
      for (const p of problems) say(`  ! ${p.path}: ${p.message}`);
      const mesh = await startLocalMesh({
        configDir: dir,
        registry: deps.registry,
        launcher,
        xdsPort: port('--xds-port', opts.xdsPort),
        monitoringPort: port('--monitoring-port', opts.monitoringPort),
        ingressPort: port('--ingress-port', opts.ingressPort),
        addressBase,
        // The default port may be taken (a second mesh): the mesh runs on without a dashboard then.
        dashboard: { port: dashboardPort, optional: cmd.getOptionValueSource('dashboardPort') === 'default' },
        metricsScrapeIntervalMs,
        report: say,
        mesh: meshConfig,
        features,
        ...(opts.cacerts !== undefined ? { cacertsDir: resolve(io.cwd, opts.cacerts) } : {}),
        ...(opts.isolateProxies === true ? { isolateProxies: true } : {}),
        ...(opts.logs === true ? { onLine: (name: string, line: string) => io.stderr(`[${name}] ${line}\n`) } : {}),
      });
      say(`  control plane: xDS ${mesh.cp.xdsAddress}, monitoring ${mesh.cp.monitoringUrl}; starting ${mesh.pods().length} pods`);
      const notReady = await mesh.ready();
      for (const p of notReady) say(`! ${p} is not ready yet`);
      if (format !== 'table') io.stdout(renderData(summary(mesh), format));
      else {
        io.stdout(
          renderTable(
            ['NAME', 'ROLE', 'IP', 'STATUS', 'ADMIN'],
            mesh.pods().map((p) => [`${p.name}.${p.namespace}`, p.role, p.ip, p.phase, p.adminUrl]),
          ),
        );
        io.stdout(`\nready in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
        if (mesh.ingressUrl !== undefined) {
          io.stdout(`ingress gateway   ${mesh.ingressUrl}\n`);
          if (folder === undefined) io.stdout(`Bookinfo          ${mesh.ingressUrl}/productpage\n`);
        }
        io.stdout(`control plane     ${mesh.cp.monitoringUrl} (isthmus proxy-status, proxy-config, request, explain)\n`);
        if (mesh.cp.dashboard !== undefined) io.stdout(`dashboard         ${mesh.cp.dashboard.loginUrl} (token: ${mesh.cp.dashboard.token})\n`);
        io.stdout('Ctrl-C stops the mesh.\n');
      }
      await stopped;
      say('stopping the mesh');
      await mesh.stop();
      say('stopped');
    });
}
