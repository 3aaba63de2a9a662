// AuthorizationPolicy, case by case, through real proxies with real mTLS identities: two callers (`sleep` in
// namespace default, `curl` in namespace other, each a sidecar with its own SPIFFE certificate from the
// control plane's CA) and one server workload per policy set, each behind its own sidecar. Every case is a
// real request (HTTP through the caller's sidecar, or a TCP tunnel, or plaintext straight to the server's
// pod IP) and its outcome: allowed (the app answers) or denied (403 `RBAC: access denied` for HTTP, the
// connection closed for TCP). Istio's semantics: https://istio.io/latest/docs/reference/config/security/authorization-policy/
// and /work/shared/reference/istio.md §1.11 (CUSTOM, then DENY, then ALLOW; no ALLOW policy means allow; ALLOW
// policies present and none matching means deny; `spec: {}` allows nothing; `rules: [{}]` allows all; a rule
// matches when one source, one operation and all conditions match).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer as createNetServer } from 'node:net';
import { createServer } from 'node:http';
import { parseMeshConfig } from '../../src/model/mesh-config.js';
import type { TestContext } from 'node:test';
import { freePort, send, startMesh, startTestProxy, startUpstream, viaSidecar, type TestMesh } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

type Caller = 'sleep' | 'curl' | 'plain';
/** `ext-deny`: the external authorizer's own denial (CUSTOM), 403 with its body. */
type Expect = 'allow' | 'deny' | 'ext-deny';

interface HttpCase {
  readonly from: Caller;
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly expect: Expect;
}

interface PolicySet {
  readonly name: string;
  /** Policy documents (`SERVER` becomes the server's app label, `PORT` its target port). */
  readonly policies: string;
  readonly tcp?: boolean;
  readonly cases: readonly HttpCase[];
}

const allow = (from: Caller, path = '/', extra: Partial<HttpCase> = {}): HttpCase => ({ from, path, expect: 'allow', ...extra });
const extDeny = (from: Caller, path = '/', extra: Partial<HttpCase> = {}): HttpCase => ({ from, path, expect: 'ext-deny', ...extra });
const deny = (from: Caller, path = '/', extra: Partial<HttpCase> = {}): HttpCase => ({ from, path, expect: 'deny', ...extra });

const policy = (name: string, spec: string, o: { namespace?: string; annotations?: string } = {}): string => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: SERVER-${name}, namespace: ${o.namespace ?? 'default'}${o.annotations !== undefined ? `, annotations: {${o.annotations}}` : ''}}
spec:
  selector: {matchLabels: {app: SERVER}}
${spec}
---
`;

const ALL_SETS: readonly PolicySet[] = [
  { name: 'no-policy', policies: '', cases: [allow('sleep'), allow('curl'), allow('plain')] },
  {
    name: 'allow-principal',
    policies: policy('p', '  action: ALLOW\n  rules: [{from: [{source: {principals: [cluster.local/ns/default/sa/sleep]}}]}]'),
    cases: [allow('sleep'), deny('curl'), deny('plain')],
  },
  {
    name: 'allow-namespace',
    policies: policy('p', '  rules: [{from: [{source: {namespaces: [other]}}]}]'),
    cases: [deny('sleep'), allow('curl'), deny('plain')],
  },
  {
    name: 'allow-not-principal',
    policies: policy('p', '  rules: [{from: [{source: {notPrincipals: [cluster.local/ns/default/sa/sleep]}}]}]'),
    // notPrincipals alone also matches a caller without identity (Istio: not[principal] on plaintext is true).
    cases: [deny('sleep'), allow('curl'), allow('plain')],
  },
  {
    name: 'allow-any-principal',
    policies: policy('p', '  rules: [{from: [{source: {principals: ["*"]}}]}]'),
    cases: [allow('sleep'), allow('curl'), deny('plain')],
  },
  {
    name: 'allow-principal-prefix',
    policies: policy('p', '  rules: [{from: [{source: {principals: ["cluster.local/ns/other/*"]}}]}]'),
    cases: [deny('sleep'), allow('curl')],
  },
  {
    name: 'deny-path-prefix',
    policies: policy('p', '  action: DENY\n  rules: [{to: [{operation: {paths: ["/admin*"]}}]}]'),
    // Paths are normalized before RBAC sees them (Istio's default BASE: normalize_path), so a dot segment or an
    // encoded dot does not get around a rule; the outbound sidecar normalizes the sleep and curl requests, the
    // server's own sidecar the plaintext ones.
    cases: [
      deny('sleep', '/admin/users'),
      deny('curl', '/admin'),
      allow('sleep', '/public'),
      deny('plain', '/admin/x'),
      allow('plain', '/x'),
      deny('sleep', '/public/../admin/users'),
      deny('curl', '/x/%2E%2E/admin'),
      deny('plain', '/public/../admin'),
      deny('plain', '/x/.%2e/admin/y'),
      deny('plain', '/%61dmin'),
      allow('plain', '/admin/../public'),
    ],
  },
  {
    name: 'allow-method-and-template',
    policies: policy('p', '  rules: [{to: [{operation: {methods: [GET], paths: ["/api/{*}/info"]}}]}]'),
    cases: [allow('sleep', '/api/v1/info'), deny('sleep', '/api/v1/x/info'), deny('sleep', '/api/v1/info', { method: 'POST' }), allow('curl', '/api/v2/info')],
  },
  {
    name: 'allow-double-star-template',
    policies: policy('p', '  rules: [{to: [{operation: {paths: ["/files/{**}"]}}]}]'),
    cases: [allow('sleep', '/files/a/b/c.txt'), allow('sleep', '/files/x'), deny('sleep', '/file')],
  },
  {
    name: 'allow-suffix-path',
    policies: policy('p', '  rules: [{to: [{operation: {paths: ["*.html"]}}]}]'),
    cases: [allow('sleep', '/index.html'), deny('sleep', '/index.php')],
  },
  // An ALLOW policy without rules (`spec: {}` plus the selector) allows nothing.
  { name: 'empty-spec-denies-all', policies: policy('p', '  action: ALLOW'), cases: [deny('sleep'), deny('curl'), deny('plain')] },
  { name: 'empty-rule-allows-all', policies: policy('p', '  rules: [{}]'), cases: [allow('sleep'), allow('curl'), allow('plain')] },
  {
    name: 'deny-wins-over-allow',
    policies: policy('allow-all', '  rules: [{}]') + policy('deny-blocked', '  action: DENY\n  rules: [{when: [{key: "request.headers[x-block]", values: ["yes"]}]}]'),
    cases: [allow('sleep'), deny('sleep', '/', { headers: { 'x-block': 'yes' } }), allow('curl', '/', { headers: { 'x-block': 'no' } })],
  },
  {
    name: 'source-and-operation-in-one-rule',
    policies: policy('p', '  rules: [{from: [{source: {principals: [cluster.local/ns/default/sa/sleep]}}], to: [{operation: {methods: [GET]}}]}]'),
    cases: [allow('sleep'), deny('sleep', '/', { method: 'POST' }), deny('curl')],
  },
  {
    name: 'rules-are-ored',
    policies: policy('p', '  rules:\n  - from: [{source: {namespaces: [other]}}]\n  - to: [{operation: {paths: [/public]}}]'),
    cases: [allow('curl', '/x'), allow('sleep', '/public'), deny('sleep', '/x')],
  },
  {
    name: 'allow-port',
    policies: policy('p', '  rules: [{to: [{operation: {ports: ["PORT"]}}]}]'),
    cases: [allow('sleep'), allow('plain')],
  },
  {
    name: 'allow-other-port',
    policies: policy('p', '  rules: [{to: [{operation: {ports: ["1"]}}]}]'),
    cases: [deny('sleep'), deny('curl')],
  },
  {
    name: 'allow-ip-block',
    policies: policy('p', '  rules: [{from: [{source: {ipBlocks: ["127.0.4.1/32"]}}]}]'),
    cases: [allow('sleep'), deny('curl')],
  },
  {
    name: 'deny-not-ip-block',
    policies: policy('p', '  action: DENY\n  rules: [{from: [{source: {notIpBlocks: ["127.0.4.0/30"]}}]}]'),
    cases: [allow('sleep'), allow('curl'), deny('plain')],
  },
  {
    name: 'when-header',
    policies: policy('p', '  rules: [{when: [{key: "request.headers[x-token]", values: [secret, "pre*"]}]}]'),
    cases: [allow('sleep', '/', { headers: { 'x-token': 'secret' } }), allow('curl', '/', { headers: { 'x-token': 'prefix-ok' } }), deny('sleep'), deny('sleep', '/', { headers: { 'x-token': 'nope' } })],
  },
  {
    name: 'when-not-values',
    policies: policy('p', '  rules: [{when: [{key: "request.headers[x-env]", notValues: [prod]}]}]'),
    cases: [allow('sleep', '/', { headers: { 'x-env': 'dev' } }), deny('sleep', '/', { headers: { 'x-env': 'prod' } })],
  },
  {
    name: 'when-source-principal',
    policies: policy('p', '  rules: [{when: [{key: source.principal, values: [cluster.local/ns/other/sa/curl]}]}]'),
    cases: [deny('sleep'), allow('curl')],
  },
  {
    name: 'when-source-namespace',
    policies: policy('p', '  rules: [{when: [{key: source.namespace, values: [default]}]}]'),
    cases: [allow('sleep'), deny('curl')],
  },
  {
    name: 'deny-not-methods',
    policies: policy('p', '  action: DENY\n  rules: [{to: [{operation: {notMethods: [GET, HEAD]}}]}]'),
    cases: [allow('sleep'), deny('sleep', '/', { method: 'DELETE' }), deny('curl', '/', { method: 'POST' })],
  },
  {
    name: 'allow-not-paths',
    policies: policy('p', '  rules: [{to: [{operation: {notPaths: ["/secret*"]}}]}]'),
    cases: [allow('sleep', '/open'), deny('sleep', '/secret/1')],
  },
  {
    name: 'audit-does-not-decide',
    policies: policy('p', '  action: AUDIT\n  rules: [{}]'),
    cases: [allow('sleep'), allow('curl')],
  },
  {
    name: 'dry-run-deny-is-not-enforced',
    policies: policy('p', '  action: DENY\n  rules: [{}]', { annotations: '"istio.io/dry-run": "true"' }),
    cases: [allow('sleep'), allow('curl')],
  },
  {
    name: 'root-namespace-policy-applies',
    policies: policy('root-deny', '  action: DENY\n  rules: [{from: [{source: {namespaces: [other]}}]}]', { namespace: 'istio-system' }),
    cases: [allow('sleep'), deny('curl')],
  },
  {
    name: 'other-namespace-policy-does-not-apply',
    policies: policy('elsewhere', '  action: DENY\n  rules: [{}]', { namespace: 'other' }),
    cases: [allow('sleep'), allow('curl')],
  },
  {
    name: 'selector-must-match',
    policies: policy('p', '  action: DENY\n  rules: [{}]').replace('app: SERVER', 'app: SERVER, version: v9'),
    cases: [allow('sleep')],
  },
  {
    name: 'custom-ext-authz',
    // CUSTOM: the mesh's `ext` provider (a real HTTP authorizer, allowing only `x-allow: yes`) decides the
    // requests the rule matches (paths /guarded*); the others never reach it. DENY still applies after it.
    policies:
      policy('p', '  action: CUSTOM\n  provider: {name: ext}\n  rules: [{to: [{operation: {paths: ["/guarded*"]}}]}]') +
      policy('d', '  action: DENY\n  rules: [{to: [{operation: {paths: ["/guarded/never"]}}]}]'),
    cases: [
      allow('sleep', '/open'),
      extDeny('sleep', '/guarded'),
      allow('sleep', '/guarded', { headers: { 'x-allow': 'yes' } }),
      extDeny('curl', '/guarded/x', { headers: { 'x-allow': 'no' } }),
      deny('curl', '/guarded/never', { headers: { 'x-allow': 'yes' } }),
      extDeny('plain', '/guarded'),
    ],
  },
  {
    name: 'custom-unknown-provider-denies',
    // A provider the mesh config does not define: Istio denies what the rule matches.
    policies: policy('p', '  action: CUSTOM\n  provider: {name: nowhere}\n  rules: [{to: [{operation: {paths: ["/guarded*"]}}]}]'),
    cases: [allow('sleep', '/open'), deny('sleep', '/guarded')],
  },
  {
    name: 'tcp-deny-keeps-non-http-fields',
    tcp: true,
    // On TCP the HTTP-only `methods` is dropped from the DENY rule; the namespace still matches.
    policies: policy('p', '  action: DENY\n  rules: [{from: [{source: {namespaces: [other]}}], to: [{operation: {methods: [GET]}}]}]'),
    cases: [allow('sleep'), deny('curl')],
  },
  {
    name: 'tcp-allow-with-http-fields-is-ignored',
    tcp: true,
    // An ALLOW rule naming paths cannot match TCP at all: it is left out, so nothing is allowed.
    policies: policy('p', '  rules: [{from: [{source: {principals: [cluster.local/ns/default/sa/sleep]}}], to: [{operation: {paths: [/x]}}]}]'),
    cases: [deny('sleep'), deny('curl')],
  },
  {
    name: 'tcp-allow-principal',
    tcp: true,
    policies: policy('p', '  rules: [{from: [{source: {principals: [cluster.local/ns/default/sa/sleep]}}]}]'),
    cases: [allow('sleep'), deny('curl'), deny('plain')],
  },
];

/** AUTHZ_ONLY=<set name>,... runs only those sets (debugging). */
const ONLY = process.env['AUTHZ_ONLY']?.split(',');
const SETS = ONLY === undefined ? ALL_SETS : ALL_SETS.filter((s) => ONLY.includes(s.name));

let extCalls = 0;

const CALLERS = { sleep: { ns: 'default', ip: '127.0.4.1' }, curl: { ns: 'other', ip: '127.0.4.2' } } as const;
const serverIp = (i: number): string => `127.0.5.${i + 1}`;
/** TCP services without a VIP are told apart by port (as headless TCP services must be in Istio). */
const tcpServicePort = (i: number): number => 9000 + i;

interface World {
  readonly mesh: TestMesh;
  readonly httpTarget: number;
  readonly tcpTarget: number;
}

async function world(t: TestContext): Promise<World> {
  const httpTarget = await freePort();
  await startUpstream(t, 'app', '127.0.0.1', httpTarget);
  const tcpTarget = await freePort();
  const echo = createNetServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(tcpTarget, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => echo.close(() => r())));
  const files: Record<string, string> = {};
  SETS.forEach((set, i) => {
    const port = set.tcp === true ? tcpTarget : httpTarget;
    files[`svc-${set.name}.yaml`] = `apiVersion: v1
kind: Service
metadata: {name: ${set.name}, namespace: default}
spec:
  selector: {app: ${set.name}}
  ports: [{name: ${set.tcp === true ? 'tcp' : 'http'}, port: ${set.tcp === true ? tcpServicePort(i) : 9080}, targetPort: ${port}}]
`;
    if (set.policies !== '') files[`authz-${set.name}.yaml`] = set.policies.replaceAll('SERVER', set.name).replaceAll('PORT', String(port));
    void i;
  });
  // The external authorizer of the CUSTOM cases: a plain HTTP server on its own workload address.
  const extPort = await freePort('127.0.7.1');
  const authorizer = createServer((req, res) => {
    extCalls++;
    if (req.headers['x-allow'] === 'yes') res.writeHead(200).end();
    else res.writeHead(403, { 'content-type': 'text/plain' }).end('denied by ext-authz');
  });
  await new Promise<void>((r) => authorizer.listen(extPort, '127.0.7.1', () => r()));
  t.after(() => new Promise<void>((r) => authorizer.close(() => r())));
  files['svc-ext-authz.yaml'] = `apiVersion: v1
kind: Service
metadata: {name: ext-authz, namespace: default}
spec:
  selector: {app: ext-authz}
  ports: [{name: http, port: 8000, targetPort: ${extPort}}]
`;
  const meshConfig = parseMeshConfig({
    extensionProviders: [{ name: 'ext', envoyExtAuthzHttp: { service: 'ext-authz.default.svc.cluster.local', port: 8000, includeRequestHeadersInCheck: ['x-allow'] } }],
  });
  assert.ok(meshConfig.ok);
  const mesh = await startMesh(t, files, meshConfig.value);
  mesh.cp.workloads.register({ name: 'ext-authz', namespace: 'default', address: '127.0.7.1', labels: { app: 'ext-authz' }, ports: { http: extPort }, tlsMode: 'disabled' });
  const token = (ns: string, sa: string) => ({ identity: { token: () => mesh.cp.ca.issueToken({ namespace: ns, serviceAccount: sa }) } });
  for (const [sa, c] of Object.entries(CALLERS)) {
    mesh.cp.workloads.register({ name: sa, namespace: c.ns, address: c.ip, labels: { app: sa }, serviceAccount: sa, tlsMode: 'istio' });
  }
  const starts: Promise<unknown>[] = [];
  SETS.forEach((set, i) => {
    const port = set.tcp === true ? tcpTarget : httpTarget;
    mesh.cp.workloads.register({ name: set.name, namespace: 'default', address: serverIp(i), labels: { app: set.name }, serviceAccount: set.name, ports: { [set.tcp === true ? 'tcp' : 'http']: port }, tlsMode: 'istio' });
    starts.push(startTestProxy(t, mesh, { node: set.name, ip: serverIp(i), labels: { app: set.name }, serviceAccount: set.name }, token('default', set.name)));
  });
  for (const [sa, c] of Object.entries(CALLERS)) starts.push(startTestProxy(t, mesh, { node: sa, namespace: c.ns, ip: c.ip, labels: { app: sa }, serviceAccount: sa }, token(c.ns, sa)));
  await Promise.all(starts);
  return { mesh, httpTarget, tcpTarget };
}

/** 'allow' / 'deny' for one HTTP case, or a description of anything else. */
async function httpOutcome(w: World, set: PolicySet, c: HttpCase, i: number): Promise<string> {
  const path = c.path ?? '/';
  const opts = { ...(c.method !== undefined ? { method: c.method } : {}), ...(c.headers !== undefined ? { headers: c.headers } : {}) };
  const r =
    c.from === 'plain'
      ? await send(serverIp(i), w.httpTarget, { path, authority: `${serverIp(i)}:${w.httpTarget}`, ...opts }) // the path as written: no client-side URL normalization
      : await viaSidecar(CALLERS[c.from].ip, `http://${set.name}.default.svc.cluster.local:9080${path}`, opts);
  if (r.status === 200 && r.body === 'app') return 'allow';
  if (r.status === 403 && r.body === 'RBAC: access denied') return 'deny';
  if (r.status === 403 && r.body === 'denied by ext-authz') return 'ext-deny';
  return `${r.status} ${r.body}`;
}

/** 'allow' when bytes echo through a TCP tunnel (or a plaintext connection), 'deny' when the server closes it. */
function tcpOutcome(w: World, set: PolicySet, c: HttpCase, i: number): Promise<string> {
  return new Promise((resolve) => {
    const s = c.from === 'plain' ? connect(w.tcpTarget, serverIp(i)) : connect(15001, CALLERS[c.from].ip);
    let buf = '';
    let done = false;
    const finish = (v: string): void => {
      if (done) return;
      done = true;
      s.destroy();
      resolve(v);
    };
    s.setTimeout(5000, () => finish('timeout'));
    s.on('connect', () => {
      if (c.from === 'plain') s.write('ping');
      else s.write(`CONNECT ${set.name}.default.svc.cluster.local:${tcpServicePort(i)} HTTP/1.1\r\nhost: ${set.name}.default.svc.cluster.local:${tcpServicePort(i)}\r\n\r\n`);
    });
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      if (c.from !== 'plain' && buf.startsWith('HTTP/1.1 200') && buf.endsWith('\r\n\r\n')) s.write('ping');
      if (buf.endsWith('ping')) finish('allow');
    });
    s.on('error', () => finish('deny'));
    s.on('close', () => finish('deny'));
  });
}

describe(`AuthorizationPolicy through real sidecars with mTLS identities (${SETS.reduce((n, s) => n + s.cases.length, 0)} cases)`, () => {
  it('every case decides as Istio does', async (t) => {
    const w = await world(t);
    // Wait until every server's policies are in force: its sidecar serves the expected first case.
    const failures: string[] = [];
    let total = 0;
    for (const [i, set] of SETS.entries()) {
      for (const c of set.cases) {
        total++;
        const what = `${set.name}: ${c.from} ${c.method ?? 'GET'} ${c.path ?? '/'}${c.headers !== undefined ? ` ${JSON.stringify(c.headers)}` : ''}`;
        // The first request to a server may race its first config; retry briefly on anything but the expected outcome only at the start.
        const got = await waitFor(
          async () => {
            const o = set.tcp === true ? await tcpOutcome(w, set, c, i) : await httpOutcome(w, set, c, i).catch((e: Error) => `error ${e.message}`);
            return o === c.expect ? o : total === 1 ? undefined : o;
          },
          what,
          10_000,
        ).catch(() => 'timeout');
        if (got !== c.expect) failures.push(`${what}: expected ${c.expect}, got ${got}`);
      }
    }
    if (ONLY === undefined) assert.ok(total >= 60, `${total} cases`);
    if (SETS.some((x) => x.name === 'custom-ext-authz')) assert.ok(extCalls >= 4, 'the CUSTOM cases reached the external authorizer');
    assert.deepEqual(failures, []);
  });
});
