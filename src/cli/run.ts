// `isthmus run --name api --port 3000 -- node server.js`: runs one app inside a running mesh (`isthmus up`),
// with a sidecar, as a pod: it gets a pod IP of its own, HOST/PORT to listen on and HTTP_PROXY through its
// sidecar, is registered with the control plane once it listens, and gets a Service named after it when
// the mesh has none (removed again when it stops). Ctrl-C deregisters it and stops both processes; a crash
// is reported and restarted as in `isthmus up`.

import type { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { IsthmusError } from '../lib/errors.js';
import { parseLabels } from './bootstrap.js';
import { parseOutputFormat, renderData, type CliIO } from './output.js';
import { controlPlaneFetch } from './proxy-target.js';
import { defaultLauncher, type Launcher } from './up/launch.js';
import type { PodPlan } from './up/pod-plan.js';
import { placementOf, podProcesses, podWorkload, waitPodReady, type PodPlacement } from './up/pod-processes.js';
import { Supervisor } from './up/supervisor.js';

export interface RunDeps {
  readonly io: CliIO;
  readonly stopSignal: () => Promise<void>;
  readonly launcher?: Launcher;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

async function call(controlPlane: string, path: string, init: RequestInit): Promise<{ status: number; text: string }> {
  const r = await controlPlaneFetch(controlPlane, path, init);
  return { status: r.status, text: await r.text() };
}

function bindable(host: string, port: number): Promise<boolean> {
  const s = createServer();
  return new Promise((ok) => {
    s.once('error', () => ok(false));
    s.listen(port, host, () => s.close(() => ok(true)));
  });
}

/** The first pod address no registered workload uses and no proxy has bound. */
async function freePlacement(controlPlane: string): Promise<PodPlacement> {
  const r = await call(controlPlane, '/v1/workloads', {});
  if (r.status !== 200) throw new IsthmusError('ISM_CONNECT', `the control plane at ${controlPlane} does not serve workloads (HTTP ${r.status})`);
  const used = new Set((JSON.parse(r.text) as { address?: string }[]).map((w) => w.address));
  for (let n = 1; n < 65_000; n++) {
    const at = placementOf(n);
    if (!used.has(at.ip) && (await bindable(at.ip, 15000))) return at;
  }
  throw new IsthmusError('ISM_LISTEN', 'no free pod address left in 127.10.0.0/16');
}

function serviceYaml(name: string, namespace: string, port: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}, labels: {app: ${name}}}
spec:
  selector: {app: ${name}}
  ports:
  - {name: http, port: ${port}}
`;
}

export function registerRun(program: Command, deps: RunDeps): void {
  const { io } = deps;
  program
    .command('run')
    .description('Run an app inside a running mesh, with a sidecar (as a pod): isthmus run --name api --port 3000 -- node server.js')
    .requiredOption('--name <name>', 'the workload (and Service) name; the app label')
    .requiredOption('--port <port>', 'the port the app listens on (on $HOST); the Service port')
    .option('-n, --namespace <namespace>', 'namespace', 'default')
    .option('--version <version>', 'the version label')
    .option('--labels <k=v,...>', 'more pod labels')
    .option('--service-account <name>', 'service account', 'default')
    .option('--control-plane <host:port>', 'the control plane monitoring address', '127.0.0.1:15014')
    .option('--xds-address <host:port>', 'the control plane xDS address', '127.0.0.1:15010')
    .option('--logs', "print the app's and the sidecar's output")
    .option('-o, --output <format>', 'how to print the pod once it is ready: table, json or yaml', 'table')
    .argument('<command...>', 'the app to run (after --)')
    .addHelpText(
      'after',
      `
The app must listen on $HOST:$PORT (HOST is the pod's own address). It reaches other services by name
through its sidecar: HTTP_PROXY is set (curl, Python requests, Go and undici's EnvHttpProxyAgent honour it).
Other workloads reach it as http://<name>:<port> (a Service is added when the mesh has none by that name).

Examples:
  isthmus run --name api --port 3000 -- node server.js
  isthmus run --name web --port 8000 --version v2 -- python3 -m http.server --bind 127.11.0.1 8000`,
    )
    .action(async (command: string[], opts: { name: string; port: string; namespace: string; version?: string; labels?: string; serviceAccount: string; controlPlane: string; xdsAddress: string; logs?: boolean; output: string }) => {
      const format = parseOutputFormat(opts.output);
      if (!DNS1123_LABEL.test(opts.name) || opts.name.length > 63) throw new IsthmusError('ISM_USAGE', `invalid --name "${opts.name}": must be a DNS-1123 label (lower case letters, digits and '-')`);
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new IsthmusError('ISM_USAGE', `invalid --port "${opts.port}": must be a port number 1-65535`);
      const [first, ...rest] = command;
      if (first === undefined) throw new IsthmusError('ISM_USAGE', 'no command to run: give it after --');
      const launcher = deps.launcher ?? defaultLauncher();
      const labels = { app: opts.name, ...(opts.version !== undefined ? { version: opts.version } : {}), ...parseLabels(opts.labels) };
      const hash = createHash('sha256').update(`${opts.namespace}/${opts.name}/${JSON.stringify(labels)}/${command.join(' ')}`).digest('hex');
      const plan: PodPlan = {
        owner: `${opts.namespace}/${opts.name}`,
        deployment: opts.name,
        namespace: opts.namespace,
        name: `${opts.name}-${hash.slice(0, 10)}-${process.pid.toString(36).slice(-5)}`,
        labels,
        serviceAccount: opts.serviceAccount,
        role: 'app',
        containers: [{ name: opts.name, image: '', command: [first, ...rest], args: [], env: {}, ports: [{ name: 'http', containerPort: port }] }],
        namedPorts: { http: port },
      };
      const at = await freePlacement(opts.controlPlane);
      const stopped = deps.stopSignal();
      const stateDir = await mkdtemp(join(tmpdir(), 'isthmus-run-'));
      const say = (line: string): void => io.stderr(line + '\n');
      const supervisor = new Supervisor({
        onEvent: (e) => {
          if (e.type === 'exited') {
            say(`! ${e.name} exited (${e.signal !== null ? `signal ${e.signal}` : `code ${e.code ?? '?'}`}); restarting in ${Math.round(e.restartInMs / 1000)}s`);
            for (const l of e.lastLines.slice(-5)) say(`    | ${l}`);
          } else if (e.type === 'restarted') say(`  ${e.name} restarted (restart ${e.restarts})`);
          else say(`! ${e.name} cannot start: ${e.error}`);
        },
        ...(opts.logs === true ? { onLine: (name: string, line: string) => io.stderr(`[${name}] ${line}\n`) } : {}),
      });
      const specs = await podProcesses(plan, at, {
        launcher,
        xdsAddress: opts.xdsAddress,
        stateDir,
        cwd: io.cwd,
        // The workload token from the control plane's CA, as Kubernetes would project it into the pod.
        token: async (id) => {
          const r = await call(opts.controlPlane, '/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(id) });
          if (r.status !== 200) throw new IsthmusError('ISM_CONNECT', `the control plane refused a workload token: ${r.text.trim()}`);
          return (JSON.parse(r.text) as { token: string }).token;
        },
      });
      for (const s of [specs.proxy, ...specs.apps]) supervisor.start(s);
      let done = false;
      const stopWaiting = stopped.then(() => (done = true));
      say(`starting ${plan.name}.${plan.namespace} on ${at.ip} (app on ${at.appAddress}:${port}, HTTP_PROXY=http://${at.ip}:15001)`);
      const ready = await Promise.race([waitPodReady(plan, at, () => done), stopWaiting.then(() => false)]);
      let createdService = false;
      if (ready) {
        const reg = await call(opts.controlPlane, '/v1/workloads', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(podWorkload(plan, at, true)) });
        if (reg.status !== 200) say(`! the control plane refused the workload: ${reg.text.trim()}`);
        const svc = await call(opts.controlPlane, `/v1/config?ifAbsent=true&file=${encodeURIComponent(`isthmus run ${opts.name}`)}`, { method: 'POST', body: serviceYaml(opts.name, opts.namespace, port) });
        createdService = svc.status === 200 && svc.text.includes(' created');
        const summary = { pod: `${plan.name}.${plan.namespace}`, ip: at.ip, appAddress: `${at.appAddress}:${port}`, service: `http://${opts.name}.${opts.namespace}:${port}`, admin: `http://${at.ip}:15000`, httpProxy: `http://${at.ip}:15001`, serviceCreated: createdService };
        if (format === 'table') io.stdout(`${summary.pod} is in the mesh: ${summary.service} (sidecar admin ${summary.admin}); Ctrl-C stops it\n`);
        else io.stdout(renderData(summary, format));
      }
      await stopWaiting;
      say(`stopping ${plan.name}.${plan.namespace}`);
      await call(opts.controlPlane, `/v1/workloads/${plan.namespace}/${plan.name}`, { method: 'DELETE' }).catch(() => undefined);
      if (createdService) await call(opts.controlPlane, '/v1/config', { method: 'DELETE', body: serviceYaml(opts.name, opts.namespace, port) }).catch(() => undefined);
      for (const s of specs.apps) await supervisor.stop(s.name);
      await supervisor.stopAll();
      await rm(stateDir, { recursive: true, force: true });
      say('stopped');
    });
}
