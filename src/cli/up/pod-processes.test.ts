// The processes of one local pod: addresses, the proxy's arguments and bootstrap file, the apps' commands
// and environment, and the workload registered for the pod. Plans come from real YAML through planPods.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKindRegistry } from '../../api/kind.js';
import { ALL_KINDS } from '../../api/kinds.js';
import { loadText } from '../../api/load.js';
import { validateDocuments } from '../../config/validate-documents.js';
import type { Launcher } from './launch.js';
import { planPods, type PodPlan } from './pod-plan.js';
import { placementOf, podAddress, podProcesses, podWorkload, type PodProcessOptions } from './pod-processes.js';

const REGISTRY = createKindRegistry(ALL_KINDS);

const LAUNCHER: Launcher = {
  node: '/usr/bin/node',
  isthmusArgs: ['isthmus.js'],
  bundled: (img) => (img === 'isthmus/bookinfo-details' ? ['details.js'] : undefined),
  demoConfig: '/x',
};

function plan(yaml: string): PodPlan {
  const loaded = loadText(yaml, 'pods.yaml');
  const v = validateDocuments(loaded.documents, REGISTRY, { defaultNamespace: 'default' }, loaded.problems);
  assert.deepEqual(v.invalid, [], 'fixture must be valid');
  const { pods, problems } = planPods(v.entries);
  assert.deepEqual(problems, []);
  const [p] = pods;
  assert.ok(p !== undefined);
  return p;
}

function deployment(name: string, namespace: string, labels: string, podSpec: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {matchLabels: ${labels}}
  template:
    metadata: {labels: ${labels}}
    spec:
${podSpec}
`;
}

const DETAILS = deployment(
  'details-v1',
  'bookinfo',
  '{app: details, version: v1}',
  `      serviceAccountName: bookinfo-details
      containers:
      - name: details
        image: isthmus/bookinfo-details
        args: [--color]
        env:
        - {name: LOG_LEVEL, value: debug}
        - {name: HOSTNAME, value: from-the-container}
        ports:
        - {containerPort: 9080, name: http}
        - {containerPort: 9443, name: https}`,
);

const INGRESS = deployment(
  'istio-ingressgateway',
  'istio-system',
  '{istio: ingressgateway}',
  `      containers:
      - name: istio-proxy
        image: istio/proxyv2:1.23.2
        ports:
        - {containerPort: 8080, name: http2}
        - {containerPort: 15021, name: status-port}`,
);

let stateDir = '';
before(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'isthmus-pod-processes-'));
});
after(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

function opts(extra: Partial<PodProcessOptions> = {}): PodProcessOptions {
  return { launcher: LAUNCHER, xdsAddress: '127.0.0.1:15010', stateDir, cwd: '/cfg', env: { PATH: '/bin', LOG_LEVEL: 'info' }, ...extra };
}

interface BootstrapJson {
  node: { id: string; cluster: string; metadata: { NAMESPACE: string; LABELS: Record<string, string>; SERVICE_ACCOUNT: string } };
  admin: { address: { socketAddress: { address: string; portValue: number } } };
}

function argAfter(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

describe('podAddress / placementOf', () => {
  const cases: { n: number; ip: string; app: string }[] = [
    { n: 1, ip: '127.10.0.1', app: '127.11.0.1' },
    { n: 2, ip: '127.10.0.2', app: '127.11.0.2' },
    { n: 254, ip: '127.10.0.254', app: '127.11.0.254' },
    { n: 255, ip: '127.10.1.1', app: '127.11.1.1' },
    { n: 508, ip: '127.10.1.254', app: '127.11.1.254' },
    { n: 509, ip: '127.10.2.1', app: '127.11.2.1' },
  ];
  for (const c of cases)
    it(`pod ${c.n} is ${c.ip} with its app on ${c.app}`, () => {
      assert.equal(podAddress(c.n), c.ip);
      assert.equal(podAddress(c.n, 11), c.app);
      assert.deepEqual(placementOf(c.n), { ip: c.ip, appAddress: c.app });
    });
});

describe('podProcesses', () => {
  describe('an app pod', () => {
    const at = placementOf(3);

    it('runs a sidecar capturing on the pod IP with the app behind it, from a bootstrap in stateDir', async () => {
      const p = plan(DETAILS);
      const { proxy } = await podProcesses(p, at, opts());
      assert.equal(proxy.name, `${p.name} (sidecar)`);
      assert.equal(proxy.command, '/usr/bin/node');
      assert.equal(proxy.cwd, '/cfg');
      assert.deepEqual(proxy.args.slice(0, 2), ['isthmus.js', 'proxy']);
      assert.equal(argAfter(proxy.args, '--capture-address'), '127.10.0.3');
      assert.equal(argAfter(proxy.args, '--app-address'), '127.11.0.3');
      assert.equal(proxy.args.includes('--bind-address'), false);
      assert.equal(proxy.args.includes('--port-map'), false);
      const file = argAfter(proxy.args, '--bootstrap');
      assert.equal(file, join(stateDir, `${p.name}.bookinfo.json`));
      assert.ok((await readdir(stateDir)).includes(`${p.name}.bookinfo.json`));
      const b = JSON.parse(await readFile(file, 'utf8')) as BootstrapJson;
      assert.equal(b.node.id, `sidecar~127.10.0.3~${p.name}.bookinfo~bookinfo.svc.cluster.local`);
      assert.deepEqual(b.admin.address.socketAddress, { address: '127.10.0.3', portValue: 15000 });
      assert.equal(b.node.metadata.NAMESPACE, 'bookinfo');
      assert.equal(b.node.metadata.SERVICE_ACCOUNT, 'bookinfo-details');
      assert.deepEqual(b.node.metadata.LABELS, p.labels);
      assert.ok(JSON.stringify(b).includes('"portValue":15010'), 'the xDS address is in the bootstrap');
    });

    it("gives the proxy the caller's environment", async () => {
      const { proxy } = await podProcesses(plan(DETAILS), at, opts());
      assert.deepEqual(proxy.env, { PATH: '/bin', LOG_LEVEL: 'info' });
    });

    it('runs a bundled image with launcher.node and its arguments before the container args', async () => {
      const p = plan(DETAILS);
      const { apps, problems } = await podProcesses(p, at, opts());
      assert.deepEqual(problems, []);
      assert.equal(apps.length, 1);
      const [app] = apps;
      assert.equal(app?.name, `${p.name} (app)`);
      assert.equal(app?.command, '/usr/bin/node');
      assert.deepEqual(app?.args, ['details.js', '--color']);
      assert.equal(app?.cwd, '/cfg');
    });

    it('gives the app the environment of a pod', async () => {
      const p = plan(DETAILS);
      const { apps } = await podProcesses(p, at, opts());
      const env = apps[0]?.env ?? {};
      const want: Record<string, string> = {
        PATH: '/bin', // the caller's
        LOG_LEVEL: 'debug', // the container's env wins over the caller's
        HOSTNAME: p.name, // the pod's name wins over the container's
        POD_NAME: p.name,
        POD_NAMESPACE: 'bookinfo',
        INSTANCE_IP: '127.10.0.3',
        SERVICE_ACCOUNT: 'bookinfo-details',
        HOST: '127.11.0.3',
        PORT: '9080', // the first container port
        HTTP_PROXY: 'http://127.10.0.3:15001',
        http_proxy: 'http://127.10.0.3:15001',
      };
      for (const [k, v] of Object.entries(want)) assert.equal(env[k], v, k);
    });

    it('sets no PORT for a container without ports', async () => {
      const p = plan(deployment('worker', 'default', '{app: worker}', '      containers:\n      - {name: worker, image: isthmus/bookinfo-details}'));
      const { apps } = await podProcesses(p, placementOf(1), opts());
      assert.equal(apps[0]?.env['PORT'], undefined);
      assert.equal(apps[0]?.env['HOST'], '127.11.0.1');
    });

    const commands: { name: string; container: string; command: string; args: string[]; cwd: string }[] = [
      { name: 'command node resolves to launcher.node', container: '{name: c, image: my/app, command: [node, server.js], args: [--port, "8000"]}', command: '/usr/bin/node', args: ['server.js', '--port', '8000'], cwd: '/cfg' },
      { name: 'another command runs as given', container: '{name: c, image: my/app, command: [python3, -m, http.server]}', command: 'python3', args: ['-m', 'http.server'], cwd: '/cfg' },
      { name: 'a command wins over a bundled image', container: '{name: c, image: isthmus/bookinfo-details, command: [./run.sh], args: [x]}', command: './run.sh', args: ['x'], cwd: '/cfg' },
      { name: 'a relative workingDir is under cwd', container: '{name: c, image: my/app, command: [node, index.js], workingDir: apps/web}', command: '/usr/bin/node', args: ['index.js'], cwd: '/cfg/apps/web' },
      { name: 'an absolute workingDir is kept', container: '{name: c, image: my/app, command: [node, index.js], workingDir: /srv/web}', command: '/usr/bin/node', args: ['index.js'], cwd: '/srv/web' },
    ];
    for (const c of commands)
      it(c.name, async () => {
        const p = plan(deployment('web', 'default', '{app: web}', `      containers:\n      - ${c.container}`));
        const { apps, problems } = await podProcesses(p, placementOf(1), opts());
        assert.deepEqual(problems, []);
        assert.equal(apps[0]?.command, c.command);
        assert.deepEqual(apps[0]?.args, c.args);
        assert.equal(apps[0]?.cwd, c.cwd);
      });

    it('names each app by container when the pod has several, and reports an image that cannot run', async () => {
      const p = plan(
        deployment(
          'shop',
          'store',
          '{app: shop}',
          `      containers:
      - {name: api, image: isthmus/bookinfo-details, ports: [{containerPort: 9080}]}
      - {name: cache, image: redis:7, ports: [{containerPort: 6379}]}
      - {name: web, image: my/web, command: [node, web.js], ports: [{containerPort: 3000}]}`,
        ),
      );
      const { apps, problems } = await podProcesses(p, placementOf(1), opts());
      assert.deepEqual(
        apps.map((a) => [a.name, a.env['PORT']]),
        [
          [`${p.name} (app api)`, '9080'],
          [`${p.name} (app web)`, '3000'],
        ],
      );
      assert.equal(problems.length, 1);
      const [problem = ''] = problems;
      assert.ok(problem.startsWith('Deployment store/shop: container cache: '), problem);
      assert.match(problem, /image "redis:7" cannot run on this machine/);
      assert.match(problem, /command/);
    });
  });

  describe('a gateway pod', () => {
    const at = placementOf(1);

    it('binds the gateway on 127.0.0.1 without capture, with a router bootstrap, and runs no app', async () => {
      const p = plan(INGRESS);
      const { proxy, apps, problems } = await podProcesses(p, at, opts());
      assert.equal(proxy.name, `${p.name} (gateway)`);
      assert.equal(argAfter(proxy.args, '--bind-address'), '127.0.0.1');
      assert.equal(proxy.args.includes('--capture-address'), false);
      assert.equal(proxy.args.includes('--app-address'), false);
      assert.deepEqual(apps, []);
      assert.deepEqual(problems, []);
      const b = JSON.parse(await readFile(argAfter(proxy.args, '--bootstrap') ?? '', 'utf8')) as BootstrapJson;
      assert.equal(b.node.id, `router~127.10.0.1~${p.name}.istio-system~istio-system.svc.cluster.local`);
      assert.deepEqual(b.admin.address.socketAddress, { address: '127.10.0.1', portValue: 15000 });
    });

    const ports: { name: string; ingressPort: number | undefined; portMap: string | undefined }[] = [
      { name: 'no ingress port', ingressPort: undefined, portMap: undefined },
      { name: 'ingress port 8080', ingressPort: 8080, portMap: undefined },
      { name: 'ingress port 9000', ingressPort: 9000, portMap: '8080=9000' },
    ];
    for (const c of ports)
      it(`maps port 8080 only when the ingress port differs: ${c.name}`, async () => {
        const { proxy } = await podProcesses(plan(INGRESS), at, opts(c.ingressPort !== undefined ? { ingressPort: c.ingressPort } : {}));
        assert.equal(argAfter(proxy.args, '--port-map'), c.portMap);
        assert.equal(proxy.args.filter((a) => a === '--port-map').length, c.portMap === undefined ? 0 : 1);
      });
  });
});

describe('podWorkload', () => {
  it('registers the pod at its IP with its labels, service account and named ports; tlsMode istio only when its proxy has an identity', () => {
    const p = plan(DETAILS);
    assert.equal(podWorkload(p, placementOf(7), true).tlsMode, 'istio');
    assert.deepEqual(podWorkload(p, placementOf(7), false), {
      name: p.name,
      namespace: 'bookinfo',
      address: '127.10.0.7',
      labels: p.labels,
      serviceAccount: 'bookinfo-details',
      ports: { http: 9080, https: 9443 },
      tlsMode: 'disabled',
    });
    assert.equal(p.labels['pod-template-hash']?.length, 10);
  });
});
