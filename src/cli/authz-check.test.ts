// `isthmus x authz check` against a real mesh: the control plane translates AuthorizationPolicies (ALLOW,
// DENY, AUDIT, CUSTOM, a dry-run one, a mesh-wide one, one without rules) into the RBAC filters of two
// sidecars, one serving an HTTP and a TCP port; the command reads that sidecar's /config_dump (by name through the control plane, by --admin,
// and from a saved file) and prints istioctl's table.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Command } from 'commander';
import { startMesh, startTestProxy, type TestMesh } from '../../test/support/data-plane.js';
import { waitFor } from '../../test/support/wait.js';
import { createKindRegistry } from '../api/kind.js';
import { ALL_KINDS } from '../api/kinds.js';
import { IsthmusError } from '../lib/errors.js';
import { parseMeshConfig } from '../model/mesh-config.js';
import type { CliIO } from './output.js';
import { authzCheckRows, registerAuthzCheck, type AuthzCheckRow } from './authz-check.js';
import { registerAuthz } from './authz.js';
import { runCli } from './program.js';
import { parseConfigDump } from './proxy-config/config-dump.js';

const NS = 'default';
const POD = { httpbin: 'httpbin-88ddbcfdd-nt5jb', ratings: 'ratings-v1-6f8c4' };
const IP = { httpbin: '127.0.43.1', ratings: '127.0.43.2' };
const REGISTRY = createKindRegistry(ALL_KINDS);

const ap = (name: string, spec: string, ns = NS, annotations = ''): string =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: ${ns}${annotations}}\nspec:\n${spec}\n---\n`;

const CONFIG = {
  'services.yaml': `apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: ${NS}}
spec:
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 8080}, {name: tcp-db, port: 3306, targetPort: 3306}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: ${NS}}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: ext-authz, namespace: ${NS}}
spec:
  selector: {app: ext-authz}
  ports: [{name: http, port: 8000}]
`,
  'policies.yaml':
    ap('httpbin-viewer', `  selector: {matchLabels: {app: httpbin}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/default/sa/sleep"]}}]
    to: [{operation: {methods: ["GET"]}}]
  - to: [{operation: {ports: ["3306"]}}]`) +
    ap('deny-admin', `  action: DENY
  rules:
  - to: [{operation: {paths: ["/admin*"]}}]`) +
    ap('deny-blocked-ns', `  action: DENY
  rules:
  - from: [{source: {namespaces: ["blocked"]}}]`, 'istio-system') +
    ap('audit-all', `  action: AUDIT
  rules:
  - {}`) +
    ap('dry-run-deny', `  action: DENY
  rules:
  - {}`, NS, ', annotations: {istio.io/dry-run: "true"}') +
    ap('allow-nothing', `  selector: {matchLabels: {app: ratings}}`) +
    ap('ext-authz', `  selector: {matchLabels: {app: ratings}}
  action: CUSTOM
  provider: {name: sample}
  rules:
  - to: [{operation: {paths: ["/admin*"]}}]`),
};

const MESH = parseMeshConfig({ extensionProviders: [{ name: 'sample', envoyExtAuthzHttp: { service: `ext-authz.${NS}.svc.cluster.local`, port: 8000 } }] });

const cleanups: (() => unknown)[] = [];
const ctx = { after: (fn: () => unknown) => void cleanups.push(fn) } as unknown as TestContext;
let mesh: TestMesh;
let controlPlane: string;
let httpbinAdmin: string;
let dir: string;

before(async () => {
  if (!MESH.ok) throw new Error(MESH.issues.map((i) => i.message).join('; '));
  dir = await mkdtemp(join(tmpdir(), 'isthmus-authz-check-'));
  mesh = await startMesh(ctx, CONFIG, { extensionProviders: MESH.value.extensionProviders ?? [] });
  controlPlane = new URL(mesh.cp.monitoringUrl).host;
  for (const app of ['httpbin', 'ratings'] as const) {
    mesh.cp.workloads.register({ name: POD[app], namespace: NS, address: IP[app], labels: { app }, tlsMode: 'disabled' });
    const proxy = await startTestProxy(ctx, mesh, { node: POD[app], ip: IP[app], labels: { app } });
    if (app === 'httpbin') httpbinAdmin = new URL(proxy.adminUrl).host;
    const want = app === 'httpbin' ? 'httpbin-viewer' : 'istio-ext-authz';
    await waitFor(async () => (await (await fetch(`${proxy.adminUrl}/config_dump`)).text()).includes(want), `the RBAC filters at ${app}`);
  }
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
  await rm(dir, { recursive: true, force: true });
});

/** Runs `isthmus x authz check <args>` (next to `eval`, as the isthmus program registers them); resolves with stdout. */
async function check(args: readonly string[]): Promise<string> {
  let out = '';
  const io: CliIO = { stdout: (s) => void (out += s), stderr: () => undefined, stdin: () => Promise.resolve(''), cwd: dir, setExitCode: () => undefined };
  const program = new Command('isthmus').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerAuthz(program, io, REGISTRY);
  registerAuthzCheck(program, io);
  await program.parseAsync(['x', 'authz', 'check', ...args], { from: 'user' });
  return out;
}

const cp = (): string[] => ['--control-plane', controlPlane];

/** istioctl's table for the httpbin sidecar: mesh-wide and namespace DENY, the workload's ALLOW, AUDIT as LOG; no dry-run. */
const HTTPBIN_TABLE = `ACTION   AuthorizationPolicy            RULES
DENY     deny-admin.default             1
DENY     deny-blocked-ns.istio-system   1
ALLOW    httpbin-viewer.default         2
LOG      audit-all.default              1
`;

describe('isthmus x authz check on a live sidecar', () => {
  const cases: { name: string; args: () => string[]; want: string }[] = [
    { name: 'httpbin by pod-name prefix: its HTTP and TCP RBAC filters', args: () => ['httpbin', ...cp()], want: HTTPBIN_TABLE },
    { name: 'httpbin as pod/<name>.<namespace>', args: () => [`pod/${POD.httpbin}.${NS}`, ...cp()], want: HTTPBIN_TABLE },
    { name: 'httpbin by --admin, without the control plane', args: () => ['--admin', httpbinAdmin], want: HTTPBIN_TABLE },
    {
      // The CUSTOM RBAC filter has only shadow rules (istio-ext-authz-…): CUSTOM from those, and, its `rules`
      // being empty, istioctl's _anonymous_match_nothing_ under ALLOW (istioctl's own testdata shows the same).
      name: 'ratings: a rule-less ALLOW policy, and a CUSTOM one with istioctl\'s _anonymous_match_nothing_',
      args: () => ['deployment/ratings-v1', ...cp()],
      want: `ACTION   AuthorizationPolicy            RULES
DENY     deny-admin.default             1
DENY     deny-blocked-ns.istio-system   1
ALLOW    _anonymous_match_nothing_      1
ALLOW    allow-nothing.default          1
LOG      audit-all.default              1
CUSTOM   ext-authz.default              1
`,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      assert.equal(await check(c.args()), c.want);
    });
  }

  it('-o json lists the same rows with the listeners carrying each; -o yaml is the same data', async () => {
    const rows = JSON.parse(await check(['httpbin', '-o', 'json', ...cp()])) as AuthzCheckRow[];
    assert.deepEqual(
      rows.map((r) => [r.action, r.authorizationPolicy, r.rules]),
      [
        ['DENY', 'deny-admin.default', 1],
        ['DENY', 'deny-blocked-ns.istio-system', 1],
        ['ALLOW', 'httpbin-viewer.default', 2],
        ['LOG', 'audit-all.default', 1],
      ],
    );
    assert.deepEqual(rows.find((r) => r.authorizationPolicy === 'httpbin-viewer.default')?.listeners, ['virtualInbound']);
    assert.deepEqual(parseYaml(await check(['httpbin', '-o', 'yaml', ...cp()])), rows);
  });

  it('-f reads a saved /config_dump and prints what the live proxy does', async () => {
    await writeFile(join(dir, 'httpbin_config_dump.json'), await (await fetch(`http://${httpbinAdmin}/config_dump`)).text());
    assert.equal(await check(['-f', 'httpbin_config_dump.json']), HTTPBIN_TABLE);
  });

  it('the isthmus program registers it: output, and `error:` with exit 1 for an unknown proxy', async () => {
    let out = '';
    let err = '';
    const io: CliIO = { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdin: () => Promise.resolve(''), cwd: dir, setExitCode: () => undefined };
    assert.equal(await runCli(['x', 'authz', 'check', 'httpbin', ...cp()], { io, registry: REGISTRY }), 0);
    assert.equal(out, HTTPBIN_TABLE);
    assert.equal(await runCli(['x', 'authz', 'check', 'productpage', ...cp()], { io, registry: REGISTRY }), 1);
    assert.equal(err, `error: no proxy "productpage" in namespace default; connected: ${POD.httpbin}.${NS}, ${POD.ratings}.${NS}\n`);
  });

  it('--help shows the flags and examples', async () => {
    let printed = '';
    const program = new Command('isthmus').exitOverride().configureOutput({ writeOut: (s) => void (printed += s), writeErr: (s) => void (printed += s) });
    registerAuthzCheck(program, { stdout: () => undefined, stderr: () => undefined, stdin: () => Promise.resolve(''), cwd: dir, setExitCode: () => undefined });
    for (const c of program.commands) for (const s of c.commands) for (const t of s.commands) t.exitOverride();
    await assert.rejects(program.parseAsync(['x', 'authz', 'check', '--help'], { from: 'user' }), (e: unknown) => (e as { code?: string }).code === 'commander.helpDisplayed');
    assert.match(printed, /-f, --file <config_dump\.json>/);
    assert.match(printed, /--admin <host:port>/);
    assert.match(printed, /Examples:\n.*\n {2}isthmus x authz check httpbin-88ddbcfdd-nt5jb\n/);
    assert.match(printed, /isthmus x authz check -f httpbin_config_dump\.json/);
  });
});

describe('isthmus x authz check errors', () => {
  const cases: { name: string; args: () => string[]; code: string; message: RegExp }[] = [
    { name: 'an unknown proxy', args: () => ['productpage', ...cp()], code: 'ISM_NOT_FOUND', message: new RegExp(`^no proxy "productpage" in namespace default; connected: ${POD.httpbin}\\.default, ${POD.ratings}\\.default$`) },
    { name: 'a proxy in another namespace', args: () => ['httpbin', '-n', 'shop', ...cp()], code: 'ISM_NOT_FOUND', message: /^no proxy "httpbin" in namespace shop/ },
    { name: 'no proxy and no file', args: () => cp(), code: 'ISM_USAGE', message: /name a proxy .* or give --file <config_dump\.json> or --admin/ },
    { name: 'a missing file', args: () => ['-f', 'missing.json'], code: 'ISM_FILE_READ', message: /^cannot read missing\.json: no such file/ },
    { name: 'a bad -o', args: () => ['httpbin', '-o', 'xml', ...cp()], code: 'ISM_USAGE', message: /invalid output format "xml"/ },
    { name: 'a dump without listeners', args: () => ['-f', 'clusters-only.json'], code: 'ISM_NOT_FOUND', message: /^the config dump of clusters-only\.json has no ListenersConfigDump section$/ },
  ];
  before(() => writeFile(join(dir, 'clusters-only.json'), JSON.stringify({ configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump' }] })));
  for (const c of cases) {
    it(c.name, async () => {
      await assert.rejects(check(c.args()), (e: unknown) => {
        assert.ok(e instanceof IsthmusError, String(e));
        assert.equal(e.code, c.code);
        assert.match(e.message, c.message);
        return true;
      });
    });
  }
});

describe('authzCheckRows: istioctl quirks on hand-written dumps', () => {
  const LISTENERS = 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump';
  const rbac = (name: string, type: string, config: object): object => ({ name, typed_config: { '@type': type, ...config } });
  const NET = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
  const dumpOf = (listeners: object[]): ReturnType<typeof parseConfigDump> =>
    parseConfigDump({ configs: [{ '@type': LISTENERS, dynamic_listeners: listeners.map((l) => ({ name: 'x', active_state: { listener: l } })) }] });
  const cases: { name: string; listeners: object[]; want: [string, string, number][] }[] = [
    { name: 'no dynamic listener: no rows', listeners: [], want: [] },
    {
      name: 'a network RBAC without policies is _anonymous_match_nothing_ under its action',
      listeners: [{ name: 'l', filter_chains: [{ filters: [rbac('envoy.filters.network.rbac', NET, { rules: { action: 'DENY' } })] }] }],
      want: [['DENY', '_anonymous_match_nothing_', 1]],
    },
    {
      name: 'numeric actions, lowerCamelCase fields, a name not in Istio\'s shape, default_filter_chain ignored',
      listeners: [
        {
          name: 'l',
          filterChains: [{ filters: [rbac('envoy.filters.network.rbac', NET, { rules: { action: 2, policies: { 'ns[a]-policy[p]-rule[0]': {}, 'ns[a]-policy[p]-rule[3]': {} } } }), rbac('envoy.filters.network.rbac', NET, { rules: { policies: { 'my-own-policy': {} } } })] }],
          default_filter_chain: { filters: [rbac('envoy.filters.network.rbac', NET, { rules: { action: 'DENY', policies: { 'ns[a]-policy[q]-rule[0]': {} } } })] },
        },
      ],
      want: [
        ['ALLOW', 'my-own-policy', 1],
        ['LOG', 'p.a', 2],
      ],
    },
    {
      name: 'a filter of another type under the RBAC name is skipped',
      listeners: [{ name: 'l', filter_chains: [{ filters: [rbac('envoy.filters.network.rbac', 'type.googleapis.com/udpa.type.v1.TypedStruct', {})] }] }],
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = dumpOf(c.listeners);
      assert.ok(d !== undefined);
      assert.deepEqual(authzCheckRows(d).map((r) => [r.action, r.authorizationPolicy, r.rules]), c.want);
    });
  }
});
