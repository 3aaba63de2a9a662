// `isthmus dashboard` (`dash`, `d`): prints the URL and login token of the mesh's dashboard (Kiali's place;
// src/dashboard), asked of the control plane's monitoring port, and opens its login page in a browser.
// It also wires the dashboard to `proxy-config`'s tables (proxyConfigTables), so both show the same rows.
// `isthmus dashboard envoy <proxy>` (`dashboard proxy`): istioctl's dashboard envoy without the
// port-forward, since a local proxy's admin is reachable as is. It prints the admin URL of the proxy (found
// through the control plane, or --admin) and opens it with the platform's opener (xdg-open, open,
// rundll32) unless --browser=false; when there is no opener it only prints, with a hint on stderr.
// `-o json|yaml` prints {proxy, url} for scripts and opens nothing.

import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { IsthmusError } from '../lib/errors.js';
import { renderData, type CliIO } from './output.js';
import { adminGet, dumpFromText, findTarget, type AdminTarget } from './proxy-config/proxy-admin.js';
import { parseBool } from './proxy-config/flags.js';
import { listenerTable } from './proxy-config/listeners.js';
import { routeTable } from './proxy-config/routes.js';
import { clusterTable } from './proxy-config/clusters.js';
import { endpointTable, parseClusterStatuses } from './proxy-config/endpoints.js';
import { controlPlaneFetch, controlPlaneUrl, proxyLocatorOptions } from './proxy-target.js';
import type { ProxySection, ProxyTable, DashboardInfo } from '../dashboard/shared/api-types.js';
import { DASHBOARD_INFO_PATH } from '../dashboard/server/dashboard-info.js';

/**
 * One `proxy-config` table of the proxy whose admin is `adminUrl`, as `isthmus proxy-config <section>`
 * prints it: listeners, routes and clusters from /config_dump, endpoints from /clusters?format=json.
 */
export async function proxyConfigTables(adminUrl: string, section: ProxySection): Promise<ProxyTable> {
  const t: AdminTarget = { id: new URL(adminUrl).host, adminUrl };
  if (section === 'endpoints') {
    const body = await adminGet(t, '/clusters?format=json');
    const statuses = parseClusterStatuses(body);
    if (statuses === undefined) throw new IsthmusError('ISM_CONNECT', `${adminUrl}/clusters?format=json is not an Envoy /clusters response`);
    return endpointTable(statuses);
  }
  const dump = dumpFromText(await adminGet(t, '/config_dump'), `the config dump at ${adminUrl}/config_dump`);
  switch (section) {
    case 'listeners':
      return listenerTable(dump);
    case 'routes':
      return routeTable(dump);
    case 'clusters':
      return clusterTable(dump);
  }
}

async function dashboardInfo(controlPlane: string): Promise<DashboardInfo> {
  const res = await controlPlaneFetch(controlPlane, DASHBOARD_INFO_PATH);
  const body = await res.text();
  if (res.status === 404) throw new IsthmusError('ISM_CONNECT', `the control plane at ${controlPlane} runs without a dashboard (start it with --dashboard-port)`);
  if (!res.ok) throw new IsthmusError('ISM_CONNECT', `${controlPlaneUrl(controlPlane)}${DASHBOARD_INFO_PATH}: HTTP ${res.status}: ${body.trim()}`);
  const v = JSON.parse(body) as Partial<DashboardInfo>;
  if (typeof v.url !== 'string' || typeof v.token !== 'string' || typeof v.loginUrl !== 'string') throw new IsthmusError('ISM_CONNECT', `${controlPlaneUrl(controlPlane)}${DASHBOARD_INFO_PATH}: not the dashboard's address and token`);
  return { url: v.url, loginUrl: v.loginUrl, token: v.token };
}

/** Opens `url` in a browser; resolves false when no opener could be started. */
export type UrlOpener = (url: string) => Promise<boolean>;

/** The platform's opener command for `url` (istioctl openBrowser), or undefined on other platforms. */
export function openerCommand(platform: NodeJS.Platform, url: string): [string, string[]] | undefined {
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd') return ['xdg-open', [url]];
  if (platform === 'darwin') return ['open', [url]];
  if (platform === 'win32') return ['rundll32', ['url.dll,FileProtocolHandler', url]];
  return undefined;
}

/** Starts the opener detached; false when it is missing (ENOENT) or cannot start. */
export function openInBrowser(url: string, opts: { platform?: NodeJS.Platform; env?: NodeJS.ProcessEnv } = {}): Promise<boolean> {
  const cmd = openerCommand(opts.platform ?? process.platform, url);
  if (cmd === undefined) return Promise.resolve(false);
  return new Promise((ok) => {
    const child = spawn(cmd[0], cmd[1], { detached: true, stdio: 'ignore', env: opts.env ?? process.env });
    child.once('error', () => ok(false));
    child.once('spawn', () => {
      child.unref();
      ok(true);
    });
  });
}

export interface DashboardDeps {
  readonly open?: UrlOpener;
}

export function registerDashboard(program: Command, io: CliIO, deps: DashboardDeps = {}): void {
  const open = deps.open ?? ((url: string) => openInBrowser(url));
  const dashboard = program
    .command('dashboard')
    .alias('dash')
    .alias('d')
    .description("Open web UIs: the mesh's dashboard (default), a proxy's Envoy admin (envoy)");
  dashboard
    .command('mesh', { isDefault: true })
    .alias('kiali')
    .description("Print the dashboard's URL and login token (from the control plane) and open its login page")
    .option('--control-plane <host:port>', 'the control plane monitoring address', '127.0.0.1:15014')
    .option('--browser [bool]', 'open a browser (--browser=false only prints)')
    .option('-o, --output <format>', 'text (default), json or yaml: {url, loginUrl, token}, without opening a browser', 'text')
    .addHelpText(
      'after',
      `
The dashboard runs with the control plane (\`isthmus up\`, \`isthmus control-plane\`; --dashboard-port,
default 20001). Paste the token into its login page; the session lasts 24 hours or until the control
plane restarts (a new token is made at each start).

Examples:
  isthmus dashboard
  isthmus dashboard --browser=false
  isthmus dashboard -o json --control-plane 127.0.0.1:15014`,
    )
    .action(async (f: { controlPlane: string; browser?: string | boolean; output: string }) => {
      if (f.output !== 'text' && f.output !== 'json' && f.output !== 'yaml') throw new IsthmusError('ISM_USAGE', `invalid output format "${f.output}": must be one of text, json, yaml`);
      const browser = parseBool('--browser', f.browser, true);
      const info = await dashboardInfo(f.controlPlane);
      if (f.output !== 'text') return void io.stdout(renderData(info, f.output));
      io.stdout(`${info.loginUrl}\ntoken: ${info.token}\n`);
      if (browser && !(await open(info.loginUrl))) io.stderr(`could not open a browser; open ${info.loginUrl} in your browser\n`);
    });
  proxyLocatorOptions(dashboard.command('envoy').alias('proxy').description("Print a proxy's Envoy admin URL and open it in a browser"))
    .option('--browser [bool]', 'open a browser (--browser=false only prints the URL)')
    .option('-o, --output <format>', 'url (default), json or yaml: {proxy, url}, without opening a browser', 'url')
    .addHelpText(
      'after',
      `
Examples:
  isthmus dashboard envoy productpage-v1
  isthmus dashboard envoy productpage-v1.default --browser=false
  isthmus d envoy productpage-v1 -o json`,
    )
    .action(async (proxy: string | undefined, f: { controlPlane: string; admin?: string; namespace: string; browser?: string | boolean; output: string }) => {
      if (f.output !== 'url' && f.output !== 'json' && f.output !== 'yaml') throw new IsthmusError('ISM_USAGE', `invalid output format "${f.output}": must be one of url, json, yaml`);
      const browser = parseBool('--browser', f.browser, true);
      if ((proxy === undefined || proxy === '') && (f.admin === undefined || f.admin === '')) throw new IsthmusError('ISM_USAGE', 'dashboard envoy needs a proxy name (<pod>[.<namespace>] or a pod-name prefix) or --admin');
      const t = await findTarget(proxy, { controlPlane: f.controlPlane, namespace: f.namespace, ...(f.admin !== undefined ? { admin: f.admin } : {}) });
      if (f.output !== 'url') return void io.stdout(renderData({ proxy: t.id, url: t.adminUrl }, f.output));
      io.stdout(`${t.adminUrl}\n`);
      if (browser && !(await open(t.adminUrl))) io.stderr(`could not open a browser; open ${t.adminUrl} in your browser\n`);
    });
}
