// `isthmus dashboard envoy <proxy>` (`dashboard proxy`, `dash`, `d`): istioctl's dashboard envoy without the
// port-forward, since a local proxy's admin is reachable as is. It prints the admin URL of the proxy (found
// through the control plane, or --admin) and opens it with the platform's opener (xdg-open, open,
// rundll32) unless --browser=false; when there is no opener it only prints, with a hint on stderr.
// `-o json|yaml` prints {proxy, url} for scripts and opens nothing.

import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { IsthmusError } from '../lib/errors.js';
import { renderData, type CliIO } from './output.js';
import { findTarget } from './proxy-config/proxy-admin.js';
import { parseBool } from './proxy-config/flags.js';

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
    .description('Open web UIs: a proxy\'s Envoy admin (envoy)');
  dashboard
    .command('envoy')
    .alias('proxy')
    .description("Print a proxy's Envoy admin URL and open it in a browser")
    .argument('[proxy]', 'the proxy: <pod>[.<namespace>], a unique pod-name prefix, or a full node id')
    .option('--control-plane <host:port>', 'the control plane monitoring address, to find the proxy', '127.0.0.1:15014')
    .option('--admin <host:port>', "the proxy's admin address (the control plane is not asked)")
    .option('-n, --namespace <ns>', 'namespace of a proxy name that carries none', 'default')
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
