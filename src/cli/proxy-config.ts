// `isthmus proxy-config` (`pc`): istioctl's proxy-config against a proxy's Envoy admin. The proxy is named
// as istioctl names a pod (`<pod>[.<namespace>]`, here also a unique pod-name prefix) and found through the
// control plane (src/cli/proxy-target.ts); `--admin` names the admin address directly and `-f` reads a
// saved `/config_dump` instead. Tables are istioctl's (see src/cli/proxy-config/*); `-o json|yaml` prints the
// matching part of the dump. Subcommands: clusters, listeners, routes, endpoints, secret, bootstrap, log, all.

import type { Command } from 'commander';
import { IsthmusError } from '../lib/errors.js';
import { renderData, renderTable, type CliIO } from './output.js';
import { parseConfigDump, type ConfigDump, type Table } from './proxy-config/config-dump.js';
import { clusterData, clusterTable, type ClusterFilter } from './proxy-config/clusters.js';
import { listenerData, listenerTable, type ListenerFilter } from './proxy-config/listeners.js';
import { routeData, routeTable } from './proxy-config/routes.js';
import { edsTable, endpointData, endpointTable, parseClusterStatuses, statusesFromDump, type ClusterStatus, type EndpointFilter } from './proxy-config/endpoints.js';
import { secretItems, secretTable } from './proxy-config/secrets.js';
import { bootstrapSummary, renderBootstrapSummary } from './proxy-config/bootstrap.js';
import { activeLoggers, LEVEL_NAMES, loggingQueries, RESET_LEVEL } from './proxy-config/log-levels.js';
import { adminGet, adminPost, findTarget, loadDump, readInputFile, type DumpSourceOptions } from './proxy-config/proxy-admin.js';
import { parseBool, parseFormat, parsePort, type ProxyConfigFormat } from './proxy-config/flags.js';
import { proxyLocatorOptions } from './proxy-target.js';

interface CommonFlags {
  readonly controlPlane: string;
  readonly admin?: string;
  readonly namespace: string;
  readonly file?: string;
  readonly output: string;
}

function common(cmd: Command, o: { file?: boolean; output?: string } = {}): Command {
  proxyLocatorOptions(cmd);
  if (o.file !== false) cmd.option('-f, --file <config_dump.json>', 'read a saved Envoy config dump instead of a live proxy');
  return cmd.option('-o, --output <format>', 'short, json or yaml', o.output ?? 'short');
}

function sourceOf(f: CommonFlags, io: CliIO): DumpSourceOptions {
  return {
    controlPlane: f.controlPlane,
    namespace: f.namespace,
    cwd: io.cwd,
    ...(f.admin !== undefined ? { admin: f.admin } : {}),
    ...(f.file !== undefined ? { file: f.file } : {}),
  };
}

function print(io: CliIO, format: ProxyConfigFormat, table: () => Table, data: () => unknown): void {
  if (format === 'short') {
    const t = table();
    io.stdout(renderTable(t.headers, t.rows));
  } else {
    io.stdout(renderData(data(), format));
  }
}

function missing(label: string, section: string): IsthmusError {
  return new IsthmusError('ISM_NOT_FOUND', `the config dump of ${label} has no ${section} section`);
}

function examples(sub: string, lines: string): string {
  return `\nExamples:\n${lines.replaceAll('$', `isthmus proxy-config ${sub}`)}`;
}

function registerClusters(pc: Command, io: CliIO): void {
  common(pc.command('clusters').alias('cluster').description('Show the clusters of a proxy: SERVICE FQDN, PORT, SUBSET, DIRECTION, TYPE, DESTINATION RULE'))
    .option('--fqdn <fqdn>', 'only clusters whose name contains this')
    .option('--port <port>', 'only clusters of this port')
    .option('--subset <subset>', 'only clusters whose name contains this subset')
    .option('--direction <dir>', 'only inbound or outbound clusters')
    .addHelpText('after', examples('clusters', '  $ productpage-v1\n  $ productpage-v1 --port 9080 --direction outbound\n  $ productpage-v1 --fqdn reviews.default.svc.cluster.local -o json\n  $ --file config_dump.json'))
    .action(async (proxy: string | undefined, f: CommonFlags & { fqdn?: string; port?: string; subset?: string; direction?: string }) => {
      const format = parseFormat(f.output);
      const port = parsePort('--port', f.port);
      const filter: ClusterFilter = { ...(f.fqdn !== undefined ? { fqdn: f.fqdn } : {}), ...(port !== undefined ? { port } : {}), ...(f.subset !== undefined ? { subset: f.subset } : {}), ...(f.direction !== undefined ? { direction: f.direction } : {}) };
      const { label, dump } = await loadDump(proxy, sourceOf(f, io));
      if (!dump.has('clusters')) throw missing(label, 'ClustersConfigDump');
      print(io, format, () => clusterTable(dump, filter), () => clusterData(dump, filter));
    });
}

function listenerFilterOf(f: { address?: string; port?: string; type?: string }): ListenerFilter {
  const port = parsePort('--port', f.port);
  return { ...(f.address !== undefined ? { address: f.address } : {}), ...(port !== undefined ? { port } : {}), ...(f.type !== undefined ? { type: f.type } : {}) };
}

function registerListeners(pc: Command, io: CliIO): void {
  common(pc.command('listeners').alias('listener').description('Show the listeners of a proxy: one row per filter chain (ADDRESSES, PORT, MATCH, DESTINATION)'))
    .option('--address <address>', 'only listeners on this address')
    .option('--port <port>', 'only listeners on this port')
    .option('--type <type>', 'only HTTP, TCP, HTTP+TCP or UNKNOWN listeners')
    .option('--verbose [bool]', 'one row per filter chain; --verbose=false prints ADDRESSES PORT TYPE')
    .addHelpText('after', examples('listeners', '  $ productpage-v1\n  $ productpage-v1 --port 15006\n  $ productpage-v1 --verbose=false --type HTTP\n  $ productpage-v1 --address 0.0.0.0 --port 9080 -o json'))
    .action(async (proxy: string | undefined, f: CommonFlags & { address?: string; port?: string; type?: string; verbose?: string | boolean }) => {
      const format = parseFormat(f.output);
      const filter = listenerFilterOf(f);
      const verbose = parseBool('--verbose', f.verbose, true);
      const { label, dump } = await loadDump(proxy, sourceOf(f, io));
      if (!dump.has('listeners')) throw missing(label, 'ListenersConfigDump');
      print(io, format, () => listenerTable(dump, filter, { verbose }), () => listenerData(dump, filter));
    });
}

function registerRoutes(pc: Command, io: CliIO): void {
  common(pc.command('routes').alias('route').description('Show the route configs of a proxy: one row per route (NAME, VHOST NAME, DOMAINS, MATCH, VIRTUAL SERVICE)'))
    .option('--name <name>', 'only the route config of this name (e.g. 9080)')
    .option('--verbose [bool]', 'one row per route; --verbose=false prints NAME VIRTUAL HOSTS')
    .addHelpText('after', examples('routes', '  $ productpage-v1\n  $ productpage-v1 --name 9080\n  $ productpage-v1 --name 9080 -o json\n  $ productpage-v1 --verbose=false'))
    .action(async (proxy: string | undefined, f: CommonFlags & { name?: string; verbose?: string | boolean }) => {
      const format = parseFormat(f.output);
      const verbose = parseBool('--verbose', f.verbose, true);
      const filter = f.name !== undefined ? { name: f.name } : {};
      const { label, dump } = await loadDump(proxy, sourceOf(f, io));
      if (!dump.has('routes')) throw missing(label, 'RoutesConfigDump');
      print(io, format, () => routeTable(dump, filter, { verbose }), () => routeData(dump, filter));
    });
}

function endpointFilterOf(f: { address?: string; port?: string; cluster?: string; status?: string }): EndpointFilter {
  const port = parsePort('--port', f.port);
  return {
    ...(f.address !== undefined ? { address: f.address } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(f.cluster !== undefined ? { cluster: f.cluster } : {}),
    ...(f.status !== undefined ? { status: f.status } : {}),
  };
}

/** A /clusters body (JSON or text) or a whole config dump, as cluster statuses. */
function statusesOf(text: string, what: string): ClusterStatus[] {
  const fromClusters = parseClusterStatuses(text);
  if (fromClusters !== undefined) return fromClusters;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const dump = parseConfigDump(json);
  if (dump !== undefined) return statusesFromDump(dump);
  throw new IsthmusError('ISM_FILE_READ', `${what} is neither an Envoy /clusters response nor a config dump`);
}

function registerEndpoints(pc: Command, io: CliIO): void {
  common(pc.command('endpoints').alias('endpoint').description("Show the endpoints of a proxy's clusters and their health (from the admin's /clusters)"))
    .option('--address <address>', 'only endpoints with this address')
    .option('--port <port>', 'only endpoints on this port')
    .option('--cluster <name>', 'only endpoints of this cluster')
    .option('--status <status>', 'only endpoints with this health: healthy, unhealthy, draining, degraded ...')
    .addHelpText(
      'after',
      `
--file reads a saved /clusters?format=json (or text /clusters, or a config dump's EDS).
${examples('endpoints', '  $ productpage-v1\n  $ productpage-v1 --cluster "outbound|9080|v1|reviews.default.svc.cluster.local"\n  $ productpage-v1 --status unhealthy -o json\n  $ --file clusters.json')}`,
    )
    .action(async (proxy: string | undefined, f: CommonFlags & { address?: string; port?: string; cluster?: string; status?: string }) => {
      const format = parseFormat(f.output);
      const filter = endpointFilterOf(f);
      let statuses: ClusterStatus[];
      if (f.file !== undefined) {
        if (proxy !== undefined) throw new IsthmusError('ISM_USAGE', `give a proxy name or --file, not both (got "${proxy}" and --file ${f.file})`);
        statuses = statusesOf(await readInputFile(io.cwd, f.file), f.file);
      } else {
        const t = await findTarget(proxy, sourceOf(f, io));
        const body = await adminGet(t, '/clusters?format=json');
        const parsed = parseClusterStatuses(body);
        if (parsed === undefined) throw new IsthmusError('ISM_CONNECT', `${t.adminUrl}/clusters?format=json: the answer of ${t.id} is not an Envoy /clusters response`);
        statuses = parsed;
      }
      print(io, format, () => endpointTable(statuses, filter), () => endpointData(statuses, filter));
    });
}

function registerSecrets(pc: Command, io: CliIO, now: () => number): void {
  common(pc.command('secret').alias('secrets').description("Show the certificates a proxy holds (SDS): type, status, validity, serial number, dates"))
    .addHelpText('after', examples('secret', '  $ productpage-v1\n  $ productpage-v1 -o json\n  $ --file config_dump.json'))
    .action(async (proxy: string | undefined, f: CommonFlags) => {
      const format = parseFormat(f.output);
      const { label, dump } = await loadDump(proxy, sourceOf(f, io));
      const section = dump.section('secrets');
      if (section === undefined) throw missing(label, 'SecretsConfigDump');
      if (format !== 'short') return void io.stdout(renderData(section, format));
      const items = secretItems(dump, now()) ?? [];
      if (items.length === 0) return void io.stdout('No active or warming secrets found.\n');
      const t = secretTable(items);
      io.stdout(renderTable(t.headers, t.rows));
    });
}

function registerBootstrap(pc: Command, io: CliIO): void {
  common(pc.command('bootstrap').description('Show the bootstrap of a proxy (json by default; -o short: its versions)'), { output: 'json' })
    .addHelpText('after', examples('bootstrap', '  $ productpage-v1\n  $ productpage-v1 -o yaml\n  $ productpage-v1 -o short\n  $ --file config_dump.json'))
    .action(async (proxy: string | undefined, f: CommonFlags) => {
      const format = parseFormat(f.output);
      const { label, dump } = await loadDump(proxy, sourceOf(f, io));
      const section = dump.section('bootstrap');
      if (section === undefined) throw missing(label, 'BootstrapConfigDump');
      if (format !== 'short') return void io.stdout(renderData(section, format));
      io.stdout(renderBootstrapSummary(bootstrapSummary(dump) ?? []));
    });
}

function registerLog(pc: Command, io: CliIO): void {
  common(pc.command('log').description("Show a proxy's log levels, or change them (POST /logging)"), { file: false })
    .option('--level <levels>', `<level> for every logger, or <logger>:<level>,...; a level is one of ${LEVEL_NAMES}`)
    .option('-r, --reset', `set every logger back to ${RESET_LEVEL}`)
    .addHelpText('after', examples('log', '  $ productpage-v1\n  $ productpage-v1 --level debug\n  $ productpage-v1 --level isthmus:debug\n  $ productpage-v1 --reset'))
    .action(async (proxy: string | undefined, f: CommonFlags & { level?: string; reset?: boolean }) => {
      if (f.output !== 'short') throw new IsthmusError('ISM_USAGE', '--output is not applicable for log');
      if (f.reset === true && f.level !== undefined) throw new IsthmusError('ISM_USAGE', '--level cannot be combined with --reset');
      const t = await findTarget(proxy, sourceOf(f, io));
      let resp = await adminPost(t, '/logging');
      const spec = f.reset === true ? RESET_LEVEL : f.level;
      if (spec !== undefined) for (const q of loggingQueries(spec, activeLoggers(resp))) resp = await adminPost(t, `/logging?${q}`);
      io.stdout(`${t.id}:\n${resp}`);
    });
}

function section(io: CliIO, headers: boolean, title: string, body: string): void {
  if (headers) io.stdout(`------ ${title} ------\n\n`);
  io.stdout(body);
}

function table(t: Table): string {
  return renderTable(t.headers, t.rows);
}

/** istioctl PrintFullSummary; sections the dump lacks (bootstrap, secrets on our proxy) are left out. */
function fullSummary(io: CliIO, dump: ConfigDump, f: { cluster: ClusterFilter; listener: ListenerFilter; route: { name?: string }; endpoint: EndpointFilter; verbose: boolean; headers: boolean; now: number }): void {
  const boot = bootstrapSummary(dump);
  if (boot !== undefined) section(io, f.headers, 'BOOTSTRAP INFO', `${renderBootstrapSummary(boot)}\n`);
  section(io, f.headers, 'CLUSTER INFO', `${table(clusterTable(dump, f.cluster, true))}\n`);
  section(io, f.headers, 'LISTENER INFO', `${table(listenerTable(dump, f.listener, { verbose: f.verbose, withName: true }))}\n`);
  section(io, f.headers, 'ROUTE INFO', `${table(routeTable(dump, f.route, { verbose: f.verbose, withName: true }))}\n`);
  const secrets = secretItems(dump, f.now);
  if (secrets !== undefined) section(io, f.headers, 'SECRET INFO', `${secrets.length === 0 ? 'No active or warming secrets found.\n' : table(secretTable(secrets, true))}\n`);
  section(io, f.headers, 'ENDPOINTS INFO', table(edsTable(dump, f.endpoint, true)));
}

function registerAll(pc: Command, io: CliIO, now: () => number): void {
  common(pc.command('all').description('Show every table (clusters, listeners, routes, secrets, endpoints), each row named type/name'))
    .option('--with-headers', 'print a title before each table')
    .option('--verbose [bool]', 'verbose listener and route tables (--verbose=false for the short ones)')
    .option('--fqdn <fqdn>', 'clusters whose name contains this')
    .option('--subset <subset>', 'clusters whose name contains this subset')
    .option('--direction <dir>', 'inbound or outbound clusters')
    .option('--port <port>', 'clusters, listeners and endpoints of this port')
    .option('--address <address>', 'listeners and endpoints on this address')
    .option('--type <type>', 'listeners of this type: HTTP, TCP, HTTP+TCP, UNKNOWN')
    .option('--name <name>', 'the route config of this name')
    .addHelpText('after', examples('all', '  $ productpage-v1\n  $ productpage-v1 --with-headers\n  $ productpage-v1 -o json > config_dump.json\n  $ --file config_dump.json'))
    .action(
      async (
        proxy: string | undefined,
        f: CommonFlags & { withHeaders?: boolean; verbose?: string | boolean; fqdn?: string; subset?: string; direction?: string; port?: string; address?: string; type?: string; name?: string },
      ) => {
        const format = parseFormat(f.output);
        const verbose = parseBool('--verbose', f.verbose, true);
        const port = parsePort('--port', f.port);
        const listener = listenerFilterOf(f);
        const cluster: ClusterFilter = { ...(f.fqdn !== undefined ? { fqdn: f.fqdn } : {}), ...(port !== undefined ? { port } : {}), ...(f.subset !== undefined ? { subset: f.subset } : {}), ...(f.direction !== undefined ? { direction: f.direction } : {}) };
        const endpoint: EndpointFilter = { ...(f.address !== undefined ? { address: f.address } : {}), ...(port !== undefined ? { port } : {}) };
        // Envoy leaves EDS out of /config_dump unless asked (?include_eds).
        const { dump } = await loadDump(proxy, sourceOf(f, io), '?include_eds');
        if (format !== 'short') return void io.stdout(renderData(dump.raw, format));
        fullSummary(io, dump, { cluster, listener, route: f.name !== undefined ? { name: f.name } : {}, endpoint, verbose, headers: f.withHeaders === true, now: now() });
      },
    );
}

export interface ProxyConfigDeps {
  /** The time certificates are checked against (default: now). */
  readonly now?: () => number;
}

export function registerProxyConfig(program: Command, io: CliIO, deps: ProxyConfigDeps = {}): void {
  const now = deps.now ?? Date.now;
  const pc = program
    .command('proxy-config')
    .alias('pc')
    .description("Show a proxy's configuration from its Envoy admin, as istioctl proxy-config does")
    .addHelpText(
      'after',
      `
The proxy is found by name through the control plane (--control-plane, default 127.0.0.1:15014):
<pod>[.<namespace>], a unique prefix of the pod name, or the full node id. --admin <host:port> talks to
an admin directly; -f reads a saved config dump (curl <admin>/config_dump > config_dump.json).

Examples:
  isthmus proxy-config clusters productpage-v1
  isthmus pc listeners productpage-v1 --port 9080
  isthmus pc routes productpage-v1 --name 9080 -o json
  isthmus pc endpoints productpage-v1 --cluster "outbound|9080||reviews.default.svc.cluster.local"
  isthmus pc all --file config_dump.json`,
    );
  registerClusters(pc, io);
  registerListeners(pc, io);
  registerRoutes(pc, io);
  registerEndpoints(pc, io);
  registerSecrets(pc, io, now);
  registerBootstrap(pc, io);
  registerLog(pc, io);
  registerAll(pc, io, now);
}

