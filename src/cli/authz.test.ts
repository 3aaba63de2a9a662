// `isthmus x authz eval`: requests against AuthorizationPolicies, decided by istiod's translation and the
// proxy's RBAC engine, with Istio's semantics (../shared/reference/istio.md §1.11): CUSTOM, then DENY, then
// ALLOW; no ALLOW policy allows; ALLOW policies that all miss deny; `{}` allows nothing, `rules: [{}]`
// everything; a rule needs one source, one operation and every condition; TCP drops HTTP-only fields.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { createKindRegistry, isKind } from '../api/kind.js';
import { ALL_KINDS } from '../api/kinds.js';
import { loadText } from '../api/load.js';
import { AUTHORIZATION_POLICY, type AuthorizationPolicy } from '../api/security/authorization-policy.js';
import { validateDocuments } from '../config/validate-documents.js';
import type { RbacRequest } from '../proxy/filters/rbac/engine.js';
import { evaluateAuthz, registerAuthz } from './authz.js';
import type { CliIO } from './output.js';
import { runCommand } from './run-command.js';

const REGISTRY = createKindRegistry(ALL_KINDS);

function policies(yaml: string): AuthorizationPolicy[] {
  const l = loadText(yaml, 'p.yaml');
  const v = validateDocuments(l.documents, REGISTRY, { defaultNamespace: 'default' }, l.problems);
  assert.deepEqual(v.invalid.map((e) => e.issues.map((i) => i.message)), []);
  return v.entries.map((e) => e.resource).filter((r): r is AuthorizationPolicy => isKind(r, AUTHORIZATION_POLICY));
}

const ap = (name: string, spec: string, ns = 'default', annotations = ''): string =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: ${ns}${annotations}}\nspec:\n${spec}\n---\n`;

const VIEWER = ap('reviews-viewer', `  selector: {matchLabels: {app: reviews}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/default/sa/bookinfo-productpage"]}}]
    to: [{operation: {methods: ["GET"]}}]`);

interface Req {
  readonly principal?: string;
  readonly ip?: string;
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly port?: number;
  readonly headers?: Record<string, string>;
  readonly tcp?: boolean;
}

function request(r: Req): RbacRequest {
  const h = new Map(Object.entries(r.headers ?? {}));
  return {
    ...(r.tcp === true ? {} : { method: r.method ?? 'GET', path: r.path ?? '/', host: r.host ?? 'reviews:9080', headers: (n: string) => h.get(n) }),
    directRemoteIp: r.ip ?? '10.1.2.3',
    remoteIp: r.ip ?? '10.1.2.3',
    sourcePort: 40000,
    destinationIp: '10.0.0.2',
    destinationPort: r.port ?? 9080,
    ...(r.principal !== undefined ? { tls: { uriSans: [`spiffe://${r.principal}`], dnsSans: [], subject: '' } } : {}),
    sni: '',
    metadata: {},
  };
}

const PRODUCTPAGE = 'cluster.local/ns/default/sa/bookinfo-productpage';
const RATINGS = 'cluster.local/ns/default/sa/bookinfo-ratings';

const CASES: { name: string; yaml: string; labels?: Record<string, string>; ns?: string; req: Req; want: 'ALLOW' | 'DENY'; by?: string }[] = [
  { name: 'no policy at all allows', yaml: '', req: {}, want: 'ALLOW' },
  { name: 'the demo policy allows the product page to GET', yaml: VIEWER, labels: { app: 'reviews' }, req: { principal: PRODUCTPAGE }, want: 'ALLOW', by: 'default/reviews-viewer' },
  { name: 'the demo policy denies ratings (no rule matches its source)', yaml: VIEWER, labels: { app: 'reviews' }, req: { principal: RATINGS }, want: 'DENY' },
  { name: 'the demo policy denies a POST from the product page (source matches, operation does not)', yaml: VIEWER, labels: { app: 'reviews' }, req: { principal: PRODUCTPAGE, method: 'POST' }, want: 'DENY' },
  { name: 'the demo policy denies plaintext (no identity)', yaml: VIEWER, labels: { app: 'reviews' }, req: {}, want: 'DENY' },
  { name: 'a selector that does not match leaves the workload open', yaml: VIEWER, labels: { app: 'ratings' }, req: { principal: RATINGS }, want: 'ALLOW' },
  { name: 'spec: {} allows nothing', yaml: ap('allow-nothing', '  {}'), req: { principal: PRODUCTPAGE }, want: 'DENY' },
  { name: 'rules: [{}] allows everything', yaml: ap('allow-all', '  rules: [{}]'), req: {}, want: 'ALLOW', by: 'default/allow-all' },
  { name: 'a DENY on /admin denies /admin', yaml: ap('no-admin', '  action: DENY\n  rules: [{to: [{operation: {paths: ["/admin*"]}}]}]'), req: { path: '/admin/users' }, want: 'DENY', by: 'default/no-admin' },
  { name: 'a DENY on /admin lets /books through', yaml: ap('no-admin', '  action: DENY\n  rules: [{to: [{operation: {paths: ["/admin*"]}}]}]'), req: { path: '/books' }, want: 'ALLOW' },
  { name: 'DENY is evaluated before ALLOW', yaml: ap('allow-all', '  rules: [{}]') + ap('no-admin', '  action: DENY\n  rules: [{to: [{operation: {paths: ["/admin"]}}]}]'), req: { path: '/admin' }, want: 'DENY', by: 'default/no-admin' },
  { name: 'a root-namespace policy applies to every namespace', yaml: ap('deny-foo', '  action: DENY\n  rules: [{from: [{source: {namespaces: ["foo"]}}]}]', 'istio-system'), ns: 'shop', req: { principal: 'cluster.local/ns/foo/sa/default' }, want: 'DENY', by: 'istio-system/deny-foo' },
  { name: 'a root-namespace DENY on namespace foo lets bar through', yaml: ap('deny-foo', '  action: DENY\n  rules: [{from: [{source: {namespaces: ["foo"]}}]}]', 'istio-system'), ns: 'shop', req: { principal: 'cluster.local/ns/bar/sa/default' }, want: 'ALLOW' },
  { name: 'a policy in another namespace does not apply', yaml: ap('allow-nothing', '  {}', 'other'), req: {}, want: 'ALLOW' },
  { name: 'ipBlocks allow 10.0.0.0/8', yaml: ap('lan', '  rules: [{from: [{source: {ipBlocks: ["10.0.0.0/8"]}}]}]'), req: { ip: '10.9.9.9' }, want: 'ALLOW', by: 'default/lan' },
  { name: 'ipBlocks deny an address outside them', yaml: ap('lan', '  rules: [{from: [{source: {ipBlocks: ["10.0.0.0/8"]}}]}]'), req: { ip: '192.168.1.1' }, want: 'DENY' },
  { name: 'notPaths: everything but /private', yaml: ap('public', '  rules: [{to: [{operation: {notPaths: ["/private"]}}]}]'), req: { path: '/private' }, want: 'DENY' },
  { name: 'hosts match the authority', yaml: ap('host', '  rules: [{to: [{operation: {hosts: ["reviews:9080"]}}]}]'), req: { host: 'REVIEWS:9080' }, want: 'ALLOW', by: 'default/host' },
  { name: 'ports match the destination port', yaml: ap('port', '  rules: [{to: [{operation: {ports: ["8080"]}}]}]'), req: { port: 9080 }, want: 'DENY' },
  { name: 'when request.headers[] must hold too', yaml: ap('token', '  rules: [{to: [{operation: {methods: ["GET"]}}], when: [{key: "request.headers[x-token]", values: ["s3cret"]}]}]'), req: { headers: { 'x-token': 'wrong' } }, want: 'DENY' },
  { name: 'when request.headers[] that holds allows', yaml: ap('token', '  rules: [{to: [{operation: {methods: ["GET"]}}], when: [{key: "request.headers[x-token]", values: ["s3cret"]}]}]'), req: { headers: { 'x-token': 's3cret' } }, want: 'ALLOW', by: 'default/token' },
  { name: 'TCP: an ALLOW rule with HTTP-only fields is ignored, so nothing is allowed', yaml: ap('get-only', '  rules: [{to: [{operation: {methods: ["GET"]}}]}]'), req: { tcp: true }, want: 'DENY' },
  { name: 'TCP: a DENY rule drops its HTTP-only fields and still matches on the port', yaml: ap('deny-port', '  action: DENY\n  rules: [{to: [{operation: {methods: ["GET"], ports: ["9080"]}}]}]'), req: { tcp: true, port: 9080 }, want: 'DENY', by: 'default/deny-port' },
  { name: 'a dry-run DENY does not enforce', yaml: ap('shadow', '  action: DENY\n  rules: [{}]', 'default', ', annotations: {"istio.io/dry-run": "true"}'), req: {}, want: 'ALLOW' },
  { name: 'AUDIT never decides', yaml: ap('audit', '  action: AUDIT\n  rules: [{}]'), req: {}, want: 'ALLOW' },
];

describe('x authz eval: Istio\'s authorization semantics', () => {
  for (const c of CASES)
    it(c.name, () => {
      const r = evaluateAuthz(policies(c.yaml), { namespace: c.ns ?? 'default', labels: c.labels ?? {} }, request(c.req), { tcp: c.req.tcp === true, rootNamespace: 'istio-system', trustDomain: 'cluster.local' });
      assert.equal(r.decision, c.want, r.reason);
      if (c.by !== undefined) assert.equal(r.decidedBy?.policy, c.by, r.reason);
    });

  it('reports a dry-run DENY that would have denied', () => {
    const r = evaluateAuthz(policies(ap('shadow', '  action: DENY\n  rules: [{}]', 'default', ', annotations: {"istio.io/dry-run": "true"}')), { namespace: 'default', labels: {} }, request({}), { tcp: false, rootNamespace: 'istio-system', trustDomain: 'cluster.local' });
    assert.match(r.dryRun.join('\n'), /dry-run DENY default\/shadow rule 0 would deny this request/);
  });

  it('says what the proxy answers: 403 with the matched policy for HTTP', () => {
    const r = evaluateAuthz(policies(ap('no-admin', '  action: DENY\n  rules: [{to: [{operation: {paths: ["/admin"]}}]}]')), { namespace: 'default', labels: {} }, request({ path: '/admin' }), { tcp: false, rootNamespace: 'istio-system', trustDomain: 'cluster.local' });
    assert.equal(r.response, '403 RBAC: access denied (rbac_access_denied_matched_policy[ns[default]-policy[no-admin]-rule[0]])');
  });
});

describe('isthmus x authz eval (the command)', () => {
  async function run(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: CliIO = { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdin: async () => '', cwd, setExitCode: () => undefined };
    const code = await runCommand(args, io, (io2) => {
      const p = new Command('isthmus').exitOverride();
      registerAuthz(p, io2, REGISTRY);
      return p;
    });
    return { code, out, err };
  }

  it('prints the decision and the deciding policy; exit 0 allowed, 2 denied; -o json', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-authz-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'p.yaml'), VIEWER);
    const base = ['x', 'authz', 'eval', '-f', 'p.yaml', '--workload', 'default/reviews-v1', '--labels', 'app=reviews'];
    const ok = await run([...base, '--source-principal', PRODUCTPAGE], dir);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /^ALLOW: allowed by ALLOW policy default\/reviews-viewer \(rule 0\)/);
    const no = await run([...base, '--source-principal', RATINGS, '-o', 'json'], dir);
    assert.equal(no.code, 2, no.err);
    const j = JSON.parse(no.out) as { decision: string; response: string };
    assert.deepEqual([j.decision, j.response], ['DENY', '403 RBAC: access denied (rbac_access_denied_matched_policy[none])']);
  });

  it('refuses an invalid policy with Istio\'s message, and a bad --workload', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-authz-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'bad.yaml'), ap('bad', '  action: ALLOW\n  rules: [{from: [{source: {principals: [""]}}]}]'));
    await assert.rejects(run(['x', 'authz', 'eval', '-f', 'bad.yaml', '--workload', 'default/x'], dir).then((r) => (r.code === 0 ? r : Promise.reject(new Error(r.err)))), /bad\.yaml:\d+ AuthorizationPolicy default\/bad/);
    const r = await run(['x', 'authz', 'eval', '-f', 'bad.yaml', '--workload', 'nope'], dir);
    assert.equal(r.code, 64);
    assert.match(r.err, /invalid --workload "nope": want <namespace>\/<name>/);
  });
});
