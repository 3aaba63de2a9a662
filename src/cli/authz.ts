// `isthmus x authz eval`: evaluates one request against AuthorizationPolicies offline, with the code the
// mesh runs: the policies that apply to the workload (root namespace, namespace, selector) are translated
// into Envoy RBAC as istiod translates them (src/translate/httpfilter/authz) and decided by the proxy's RBAC
// engine (src/proxy/filters/rbac), in Istio's order: CUSTOM (reported, not evaluated: it asks an external
// authorizer), then DENY, then ALLOW (no ALLOW policy means allow; ALLOW policies that all miss mean deny).
// AUDIT policies are reported when they match and never decide. Dry-run policies are evaluated as shadows:
// they are reported, not enforced. Policy authors test their policies here before they ship.

import type { Command } from 'commander';
import { experimentalCommand } from './experimental.js';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isKind, type KindRegistry } from '../api/kind.js';
import { loadText } from '../api/load.js';
import { AUTHORIZATION_POLICY, type AuthorizationPolicy } from '../api/security/authorization-policy.js';
import { listConfigFiles } from '../config/read-files.js';
import { validateDocuments } from '../config/validate-documents.js';
import { IsthmusError } from '../lib/errors.js';
import { compileRbac, evaluateRbac, type RbacRequest } from '../proxy/filters/rbac/engine.js';
import { rbacDeniedDetails } from '../proxy/filters/rbac/filter.js';
import { buildRbacRules } from '../translate/httpfilter/authz/build-rbac.js';
import { policiesForWorkload } from '../translate/httpfilter/authz/policies-for-workload.js';
import { parseLabels } from './bootstrap.js';
import { parseOutputFormat, renderData, type CliIO } from './output.js';
import { formatReportRow, rowsOf } from './validate.js';

export interface AuthzStep {
  readonly phase: 'CUSTOM' | 'DENY' | 'AUDIT' | 'ALLOW';
  /** The policies of this phase that apply to the workload, `namespace/name`. */
  readonly policies: readonly string[];
  readonly matched?: { readonly policy: string; readonly rule: number; readonly envoyPolicy: string };
  readonly note: string;
}

export interface AuthzResult {
  readonly decision: 'ALLOW' | 'DENY';
  /** The policy and rule that decided, when one did. */
  readonly decidedBy?: { readonly policy: string; readonly rule: number; readonly envoyPolicy: string };
  readonly reason: string;
  /** What the proxy would answer: 403 with Envoy's details for HTTP, a closed connection for TCP. */
  readonly response: string;
  readonly steps: readonly AuthzStep[];
  readonly dryRun: readonly string[];
  readonly skipped: readonly string[];
}

const POLICY_NAME = /^(?:.*-)?ns\[([^\]]*)\]-policy\[([^\]]*)\]-rule\[(\d+)\]$/;

function decodeName(envoyPolicy: string): { policy: string; rule: number; envoyPolicy: string } {
  const m = POLICY_NAME.exec(envoyPolicy);
  return m === null ? { policy: envoyPolicy, rule: 0, envoyPolicy } : { policy: `${m[1]}/${m[2]}`, rule: Number(m[3]), envoyPolicy };
}

const keyOf = (p: AuthorizationPolicy): string => `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;

/** Evaluates `req` against the policies that apply to the workload, in Istio's order. */
export function evaluateAuthz(all: readonly AuthorizationPolicy[], workload: { namespace: string; labels: Readonly<Record<string, string>> }, req: RbacRequest, o: { tcp: boolean; rootNamespace: string; trustDomain: string }): AuthzResult {
  const applying = policiesForWorkload(all, workload, o.rootNamespace);
  const steps: AuthzStep[] = [];
  const skipped: string[] = [];
  const dryRun: string[] = [];
  const opts = { trustDomain: o.trustDomain };
  /** The first enforced and the first shadow policy of `list` matching the request. */
  const match = (list: readonly AuthorizationPolicy[], action: 'ALLOW' | 'DENY' | 'LOG'): { hit?: ReturnType<typeof decodeName>; shadow?: ReturnType<typeof decodeName> } => {
    if (list.length === 0) return {};
    const built = buildRbacRules(list, action, o.tcp, opts);
    skipped.push(...built.skipped.map((s) => s.reason));
    const run = (rules: typeof built.rules): ReturnType<typeof decodeName> | undefined => {
      if (rules === undefined) return undefined;
      const c = compileRbac(rules, 'rules');
      if (!c.ok) throw new IsthmusError('ISM_USAGE', `the proxy cannot enforce these policies: ${c.problems.join('; ')}`);
      const d = evaluateRbac(c.value, req);
      return d.matchedPolicy !== undefined ? decodeName(d.matchedPolicy) : undefined;
    };
    const hit = run(built.rules);
    const shadow = run(built.shadowRules);
    return { ...(hit !== undefined ? { hit } : {}), ...(shadow !== undefined ? { shadow } : {}) };
  };

  steps.push({ phase: 'CUSTOM', policies: applying.custom.map(keyOf), note: applying.custom.length === 0 ? 'no CUSTOM policy applies' : 'CUSTOM policies ask an external authorizer: not evaluated here' });
  const deny = match(applying.deny, 'DENY');
  if (deny.shadow !== undefined) dryRun.push(`dry-run DENY ${deny.shadow.policy} rule ${deny.shadow.rule} would deny this request`);
  if (deny.hit !== undefined) {
    steps.push({ phase: 'DENY', policies: applying.deny.map(keyOf), matched: deny.hit, note: `DENY policy ${deny.hit.policy} rule ${deny.hit.rule} matches` });
    return finish('DENY', deny.hit, `denied by DENY policy ${deny.hit.policy} (rule ${deny.hit.rule})`);
  }
  steps.push({ phase: 'DENY', policies: applying.deny.map(keyOf), note: applying.deny.length === 0 ? 'no DENY policy applies' : 'no DENY rule matches' });
  const audit = match(applying.audit, 'LOG');
  steps.push({ phase: 'AUDIT', policies: applying.audit.map(keyOf), ...(audit.hit !== undefined ? { matched: audit.hit } : {}), note: audit.hit !== undefined ? `AUDIT policy ${audit.hit.policy} rule ${audit.hit.rule} matches: the request is logged` : applying.audit.length === 0 ? 'no AUDIT policy applies' : 'no AUDIT rule matches' });
  const allow = match(applying.allow, 'ALLOW');
  if (allow.shadow !== undefined) dryRun.push(`dry-run ALLOW ${allow.shadow.policy} rule ${allow.shadow.rule} matches this request`);
  const enforcedAllow = applying.allow.filter((p) => p.metadata.annotations?.['istio.io/dry-run'] !== 'true');
  if (enforcedAllow.length === 0) {
    steps.push({ phase: 'ALLOW', policies: applying.allow.map(keyOf), note: 'no ALLOW policy applies (dry-run ones do not count): allowed' });
    return finish('ALLOW', undefined, 'no ALLOW policy applies to the workload, so the request is allowed');
  }
  if (allow.hit !== undefined) {
    steps.push({ phase: 'ALLOW', policies: applying.allow.map(keyOf), matched: allow.hit, note: `ALLOW policy ${allow.hit.policy} rule ${allow.hit.rule} matches` });
    return finish('ALLOW', allow.hit, `allowed by ALLOW policy ${allow.hit.policy} (rule ${allow.hit.rule})`);
  }
  steps.push({ phase: 'ALLOW', policies: applying.allow.map(keyOf), note: 'ALLOW policies apply and none matches: denied' });
  return finish('DENY', undefined, `ALLOW policies apply (${enforcedAllow.map(keyOf).join(', ')}) and no rule of theirs matches`);

  function finish(decision: 'ALLOW' | 'DENY', by: ReturnType<typeof decodeName> | undefined, reason: string): AuthzResult {
    const response = decision === 'ALLOW' ? 'forwarded' : o.tcp ? 'the connection is closed' : `403 RBAC: access denied (${rbacDeniedDetails(by?.envoyPolicy)})`;
    return { decision, ...(by !== undefined ? { decidedBy: by } : {}), reason, response, steps, dryRun, skipped };
  }
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

async function readPolicies(io: CliIO, registry: KindRegistry, files: readonly string[]): Promise<AuthorizationPolicy[]> {
  const out: AuthorizationPolicy[] = [];
  const problems: string[] = [];
  for (const f of files) {
    const path = resolve(io.cwd, f);
    const st = await stat(path).catch(() => undefined);
    if (st === undefined) throw new IsthmusError('ISM_FILE_READ', `cannot read ${f}: no such file or folder`);
    for (const p of st.isDirectory() ? await listConfigFiles(path) : [path]) {
      const loaded = loadText(await readFile(p, 'utf8'), p === path ? f : p);
      const v = validateDocuments(loaded.documents, registry, { defaultNamespace: 'default' }, loaded.problems);
      problems.push(...v.invalid.flatMap((e) => rowsOf(e).map(formatReportRow)));
      for (const e of v.entries) if (isKind(e.resource, AUTHORIZATION_POLICY)) out.push(e.resource);
    }
  }
  if (problems.length > 0) throw new IsthmusError('ISM_USAGE', `invalid policies:\n${problems.join('\n')}`);
  return out;
}

export function registerAuthz(program: Command, io: CliIO, registry: KindRegistry): void {
  const x = experimentalCommand(program);
  const authz = x.commands.find((c) => c.name() === 'authz') ?? x.command('authz').description("Authorization policies: check those a proxy enforces, evaluate a request offline");
  authz
    .command('eval')
    .description('Evaluate a request against AuthorizationPolicies offline, with the translation and RBAC engine the mesh runs')
    .requiredOption('-f, --filename <path...>', 'policy files or folders (other kinds in them are ignored)')
    .requiredOption('--workload <ns/name>', 'the workload receiving the request (its namespace decides which policies apply)')
    .option('--labels <k=v,...>', "the workload's labels, for policies with a selector")
    .option('--source-principal <principal>', "the caller's identity, e.g. cluster.local/ns/default/sa/bookinfo-productpage")
    .option('--source-namespace <ns>', "the caller's namespace (without --source-principal: its default service account)")
    .option('--source-ip <ip>', "the caller's address", '10.0.0.1')
    .option('--method <method>', 'HTTP method', 'GET')
    .option('--path <path>', 'request path', '/')
    .option('--host <host>', 'the :authority', '')
    .option('--port <port>', 'the destination port', '80')
    .option('-H, --header <header>', "a request header 'name: value' (repeatable)", collect, [])
    .option('--tcp', 'a TCP connection: HTTP-only fields follow Istio\'s TCP rules')
    .option('--root-namespace <ns>', "the mesh's root namespace", 'istio-system')
    .option('--trust-domain <domain>', 'the trust domain', 'cluster.local')
    .option('-o, --output <format>', 'table (text), json or yaml', 'table')
    .addHelpText(
      'after',
      `
Exit status 0 when the request is allowed, 2 when it is denied (1 for errors), so scripts can assert it.

Examples:
  isthmus x authz eval -f policies/ --workload default/reviews-v1 --labels app=reviews \\
      --source-principal cluster.local/ns/default/sa/bookinfo-productpage --method GET --path /reviews/0
  isthmus x authz eval -f deny-all.yaml --workload default/db --tcp --source-namespace shop -o json`,
    )
    .action(async (opts: { filename: string[]; workload: string; labels?: string; sourcePrincipal?: string; sourceNamespace?: string; sourceIp: string; method: string; path: string; host: string; port: string; header: string[]; tcp?: boolean; rootNamespace: string; trustDomain: string; output: string }) => {
      const format = parseOutputFormat(opts.output);
      const slash = opts.workload.indexOf('/');
      if (slash <= 0 || slash === opts.workload.length - 1) throw new IsthmusError('ISM_USAGE', `invalid --workload "${opts.workload}": want <namespace>/<name>`);
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new IsthmusError('ISM_USAGE', `invalid --port "${opts.port}": must be a port number 1-65535`);
      const headers = new Map<string, string>();
      for (const h of opts.header) {
        const colon = h.indexOf(':');
        if (colon <= 0) throw new IsthmusError('ISM_USAGE', `invalid -H "${h}": want 'name: value'`);
        const name = h.slice(0, colon).trim().toLowerCase();
        const value = h.slice(colon + 1).trim();
        headers.set(name, headers.has(name) ? `${headers.get(name) as string},${value}` : value);
      }
      const principal = opts.sourcePrincipal ?? (opts.sourceNamespace !== undefined ? `${opts.trustDomain}/ns/${opts.sourceNamespace}/sa/default` : undefined);
      const policies = await readPolicies(io, registry, opts.filename);
      const tcp = opts.tcp === true;
      const req: RbacRequest = {
        ...(tcp ? {} : { method: opts.method.toUpperCase(), path: opts.path, host: opts.host, headers: (n: string) => headers.get(n) }),
        directRemoteIp: opts.sourceIp,
        remoteIp: opts.sourceIp,
        sourcePort: 40000,
        destinationIp: '10.0.0.2',
        destinationPort: port,
        ...(principal !== undefined ? { tls: { uriSans: [`spiffe://${principal}`], dnsSans: [], subject: '' } } : {}),
        sni: '',
        metadata: {},
      };
      const r = evaluateAuthz(policies, { namespace: opts.workload.slice(0, slash), labels: parseLabels(opts.labels) }, req, { tcp, rootNamespace: opts.rootNamespace, trustDomain: opts.trustDomain });
      if (format !== 'table') io.stdout(renderData(r, format));
      else {
        io.stdout(`${r.decision}: ${r.reason}\n  the proxy: ${r.response}\n`);
        for (const s of r.steps) io.stdout(`  ${s.phase.padEnd(6)} ${s.note}${s.policies.length > 0 ? ` [${s.policies.join(', ')}]` : ''}\n`);
        for (const d of r.dryRun) io.stdout(`  dry run: ${d}\n`);
        for (const s of r.skipped) io.stdout(`  note: ${s}\n`);
      }
      io.setExitCode(r.decision === 'ALLOW' ? 0 : 2);
    });
}
