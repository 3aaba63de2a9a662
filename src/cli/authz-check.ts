// `isthmus x authz check <proxy>`: istioctl's `x authz check` (istioctl/pkg/authz/listener.go). Reads a
// proxy's Envoy config dump (live through its admin, or a saved one with -f), finds the RBAC filters on its
// dynamic listeners (HTTP `envoy.filters.http.rbac` inside each HTTP connection manager, network
// `envoy.filters.network.rbac`) and lists, per action, the AuthorizationPolicies they were built from, named
// `<name>.<namespace>` from Istio's RBAC policy names `ns[<ns>]-policy[<name>]-rule[<i>]`, with the number of
// distinct rules seen. It reads the dump's JSON (Envoy's snake_case or lowerCamelCase, `@type` Anys), never
// our own types, so dumps saved from Envoy work too. It reports what the proxy holds; it does not evaluate.
//
// istioctl's quirks are kept: an RBAC filter whose `rules` list no policy adds `_anonymous_match_nothing_`
// with 1 rule under its action, ALLOW when `rules` is absent (so Istio's CUSTOM filter, which has only shadow
// rules, and a filter of dry-run policies only show it); shadow policies named `istio-ext-authz-…` are CUSTOM;
// other shadow (dry-run) policies are not listed; rows are DENY, ALLOW, LOG, CUSTOM, names sorted within
// each; RULES counts a policy's rule indexes over every action and filter; only `filter_chains` are read
// (not `default_filter_chain`). One difference: a policy name that is not Istio's shape is listed as written
// (istioctl prints an empty name).

import type { Command } from 'commander';
import { experimentalCommand } from './experimental.js';
import { IsthmusError } from '../lib/errors.js';
import { parseOutputFormat, renderData, renderTable, type CliIO } from './output.js';
import type { ConfigDump } from './proxy-config/config-dump.js';
import { asObject, field, list, obj, str, type JsonObject } from './proxy-config/json-fields.js';
import { loadDump } from './proxy-config/proxy-admin.js';
import { proxyLocatorOptions } from './proxy-target.js';

export type AuthzCheckAction = 'DENY' | 'ALLOW' | 'LOG' | 'CUSTOM';

/** One row of `x authz check`: an AuthorizationPolicy the proxy enforces (or logs, or sends to CUSTOM). */
export interface AuthzCheckRow {
  readonly action: AuthzCheckAction;
  /** `<name>.<namespace>`, `_anonymous_match_nothing_`, or an RBAC policy name not in Istio's shape. */
  readonly authorizationPolicy: string;
  /** Distinct rule indexes of this policy over every action and filter (istioctl's RULES). */
  readonly rules: number;
  /** The dynamic listeners whose RBAC filters carry it under this action, sorted. */
  readonly listeners: readonly string[];
}

export const AUTHZ_CHECK_HEADERS = ['ACTION', 'AuthorizationPolicy', 'RULES'] as const;

/** istioctl's anonymousName: an RBAC filter with no policies (Istio's "deny everything" ALLOW filter). */
export const ANONYMOUS_POLICY = '_anonymous_match_nothing_';

const ACTION_ORDER: readonly AuthzCheckAction[] = ['DENY', 'ALLOW', 'LOG', 'CUSTOM'];
const EXT_AUTHZ_PREFIX = 'istio-ext-authz-';

const HCM_NAMES = new Set(['envoy.filters.network.http_connection_manager', 'envoy.http_connection_manager']);
const HTTP_RBAC_NAME = 'envoy.filters.http.rbac';
const NETWORK_RBAC_NAME = 'envoy.filters.network.rbac';
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const HTTP_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const NETWORK_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';

/** envoy.config.rbac.v3.RBAC.Action, as JSON prints it (name, or number from some printers). */
const RBAC_ACTIONS: readonly string[] = ['ALLOW', 'DENY', 'LOG'];

/** Istio's RBAC policy names, unanchored as istioctl matches them: `[istio-ext-authz-…]ns[ns]-policy[name]-rule[i]`. */
const POLICY_NAME = /(?:istio-ext-authz-)?ns\[(.+)\]-policy\[(.+)\]-rule\[(.+)\]/;

/**
 * A filter's typed config when it is of type `type`. istioctl reads only `typed_config` and fails the
 * unmarshal (skipping the filter) on any other type; a filter without typed_config reads as empty.
 */
function typedConfig(filter: JsonObject, type: string): JsonObject | undefined {
  const tc = obj(filter, 'typed_config');
  if (tc === undefined) return {};
  return tc['@type'] === type ? tc : undefined;
}

function actionOf(rbac: JsonObject): string {
  const a = field(obj(rbac, 'rules'), 'action');
  if (typeof a === 'number') return RBAC_ACTIONS[a] ?? String(a);
  return typeof a === 'string' ? a : 'ALLOW';
}

function policyNames(rbac: JsonObject, rules: 'rules' | 'shadow_rules'): string[] {
  return Object.keys(asObject(field(obj(rbac, rules), 'policies')) ?? {});
}

function parseName(envoyPolicy: string): { policy: string; rule: string } {
  const m = POLICY_NAME.exec(envoyPolicy);
  return m === null ? { policy: envoyPolicy, rule: '' } : { policy: `${m[2] ?? ''}.${m[1] ?? ''}`, rule: m[3] ?? '' };
}

/** The RBAC filter configs (HTTP and network) on one listener's filter chains, in order. */
function rbacFilters(listener: JsonObject): JsonObject[] {
  const out: JsonObject[] = [];
  for (const chain of list(listener, 'filter_chains')) {
    for (const filter of list(chain, 'filters')) {
      const name = str(filter, 'name');
      if (HCM_NAMES.has(name)) {
        const hcm = typedConfig(filter, HCM_TYPE);
        for (const hf of list(hcm, 'http_filters')) {
          if (str(hf, 'name') !== HTTP_RBAC_NAME) continue;
          const rbac = typedConfig(hf, HTTP_RBAC_TYPE);
          if (rbac !== undefined) out.push(rbac);
        }
      } else if (name === NETWORK_RBAC_NAME) {
        const rbac = typedConfig(filter, NETWORK_RBAC_TYPE);
        if (rbac !== undefined) out.push(rbac);
      }
    }
  }
  return out;
}

/** The active dynamic listeners of the dump (istioctl GetDynamicListenerDump: warming and draining ones are left out). */
function activeListeners(dump: ConfigDump): JsonObject[] {
  return list(dump.section('listeners'), 'dynamic_listeners')
    .map((l) => obj(obj(l, 'active_state'), 'listener'))
    .filter((l): l is JsonObject => l !== undefined);
}

/** The rows istioctl prints for the dump: DENY, ALLOW, LOG, CUSTOM, each sorted by policy name. */
export function authzCheckRows(dump: ConfigDump): AuthzCheckRow[] {
  const byAction = new Map<string, Map<string, Set<string>>>();
  const rulesOf = new Map<string, Set<string>>();
  const add = (action: string, policy: string, rule: string, listener: string): void => {
    let names = byAction.get(action);
    if (names === undefined) byAction.set(action, (names = new Map()));
    let listeners = names.get(policy);
    if (listeners === undefined) names.set(policy, (listeners = new Set()));
    listeners.add(listener);
    let rules = rulesOf.get(policy);
    if (rules === undefined) rulesOf.set(policy, (rules = new Set()));
    rules.add(rule);
  };
  for (const listener of activeListeners(dump)) {
    const listenerName = str(listener, 'name');
    for (const rbac of rbacFilters(listener)) {
      const action = actionOf(rbac);
      const enforced = policyNames(rbac, 'rules');
      for (const name of enforced) {
        const p = parseName(name);
        add(action, p.policy, p.rule, listenerName);
      }
      for (const name of policyNames(rbac, 'shadow_rules')) {
        if (!name.startsWith(EXT_AUTHZ_PREFIX)) continue;
        const p = parseName(name);
        add('CUSTOM', p.policy, p.rule, listenerName);
      }
      if (enforced.length === 0) add(action, ANONYMOUS_POLICY, '0', listenerName);
    }
  }
  const rows: AuthzCheckRow[] = [];
  for (const action of ACTION_ORDER) {
    const names = byAction.get(action);
    if (names === undefined) continue;
    // Go's sort.Strings: byte order, not locale order.
    for (const name of [...names.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      rows.push({ action, authorizationPolicy: name, rules: rulesOf.get(name)?.size ?? 0, listeners: [...(names.get(name) ?? [])].sort() });
    }
  }
  return rows;
}

/** istioctl's table (tabwriter, three spaces between columns). */
export function renderAuthzCheck(rows: readonly AuthzCheckRow[]): string {
  return renderTable(AUTHZ_CHECK_HEADERS, rows.map((r) => [r.action, r.authorizationPolicy, String(r.rules)]));
}

interface CheckFlags {
  readonly controlPlane: string;
  readonly admin?: string;
  readonly namespace: string;
  readonly file?: string;
  readonly output: string;
}

/** Adds `check` under `isthmus x authz` (creating `x` and `authz` when `eval` has not). */
export function registerAuthzCheck(program: Command, io: CliIO): void {
  const x = experimentalCommand(program);
  const authz = x.commands.find((c) => c.name() === 'authz') ?? x.command('authz').description('Inspect Istio AuthorizationPolicy');
  proxyLocatorOptions(
    authz.command('check').description("Check the AuthorizationPolicies applied to a proxy, from the RBAC filters of its Envoy config, as istioctl x authz check"),
    '[<type>/]<pod>[.<namespace>], a unique pod-name prefix, or a full node id',
  )
    .option('-f, --file <config_dump.json>', 'read a saved Envoy config dump instead of a live proxy')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .addHelpText(
      'after',
      `
Prints, per policy, the ACTION (DENY, ALLOW, LOG, CUSTOM), the AuthorizationPolicy (<name>.<namespace>) and
the number of its RULES found in the proxy's RBAC filters: what reached the proxy from the control plane,
merged from the mesh-wide, namespace and workload policies. As in istioctl, an RBAC filter with no enforced
policy (the CUSTOM filter, or dry-run policies only) shows as ALLOW _anonymous_match_nothing_; dry-run
policies are not listed. -o json|yaml adds the listeners carrying each.

Examples:
  # Check the AuthorizationPolicies applied to the proxy of pod httpbin-88ddbcfdd-nt5jb:
  isthmus x authz check httpbin-88ddbcfdd-nt5jb

  # Check those of one pod of a deployment (a pod-name prefix):
  isthmus x authz check deployment/productpage-v1

  # Check those in a saved Envoy config dump (curl <admin>/config_dump > httpbin_config_dump.json):
  isthmus x authz check -f httpbin_config_dump.json`,
    )
    .action(async (proxy: string | undefined, f: CheckFlags) => {
      const format = parseOutputFormat(f.output);
      const { label, dump } = await loadDump(proxy, {
        controlPlane: f.controlPlane,
        namespace: f.namespace,
        cwd: io.cwd,
        ...(f.admin !== undefined ? { admin: f.admin } : {}),
        ...(f.file !== undefined ? { file: f.file } : {}),
      });
      if (!dump.has('listeners')) throw new IsthmusError('ISM_NOT_FOUND', `the config dump of ${label} has no ListenersConfigDump section`);
      const rows = authzCheckRows(dump);
      if (format !== 'table') return void io.stdout(renderData(rows, format));
      // istioctl prints nothing, not even the header, for a proxy with no dynamic listener.
      if (activeListeners(dump).length === 0) return;
      io.stdout(renderAuthzCheck(rows));
    });
}
