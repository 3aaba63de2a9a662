// AuthorizationPolicies of one action -> the Envoy RBAC filter config istiod emits for them
// (pilot/pkg/security/authz/builder/builder.go): one policy per rule named `ns[<ns>]-policy[<name>]-rule[<i>]`,
// `istio.io/dry-run` policies under shadow_rules, a rule-less policy as a policy that never matches, and on TCP
// the HTTP-only handling of the rule model. Pure; wiring into listeners is the caller's business.

import { create } from '@bufbuild/protobuf';
import { effectiveAction, isDryRun, type AuthorizationAction, type AuthorizationPolicy } from '../../../api/security/authorization-policy.js';
import { RBAC_Action, RBACSchema as ConfigRBACSchema, type RBAC as ConfigRBAC } from '../../../xds/gen/envoy/config/rbac/v3/rbac_pb.js';
import { RBACSchema as HttpRBACSchema, type RBAC as HttpRBAC } from '../../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RBACSchema as NetworkRBACSchema, type RBAC as NetworkRBAC } from '../../../xds/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { policyMatchNever } from './rbac-nodes.js';
import { buildRuleModel, generatePolicy, migrateTrustDomain, type GenerateAction } from './rule-model.js';
import { trustDomainBundle } from './trust-domain-bundle.js';

export const HTTP_RBAC_FILTER_NAME = 'envoy.filters.http.rbac';
export const NETWORK_RBAC_FILTER_NAME = 'envoy.filters.network.rbac';
export const TCP_RBAC_STAT_PREFIX = 'tcp.';
export const SHADOW_ALLOW_STAT_PREFIX = 'istio_dry_run_allow_';
export const SHADOW_DENY_STAT_PREFIX = 'istio_dry_run_deny_';

export interface RbacBuildOptions {
  /** The mesh trust domain (meshConfig.trustDomain, `cluster.local` by default). */
  readonly trustDomain: string;
  readonly trustDomainAliases?: readonly string[];
  /** Match the peer identity on the `io.istio.peer_principal` filter state instead of `authenticated` (Istio's UseFilterState). */
  readonly useFilterState?: boolean;
  /** `shadow` (Istio): dry-run policies go to shadow_rules. `enforce`: treat them as enforced (what-if evaluation). */
  readonly dryRun?: 'shadow' | 'enforce';
}

/** The actions with an RBAC filter of their own; CUSTOM goes through custom-action.ts. */
export type RbacAction = Exclude<AuthorizationAction, 'CUSTOM'>;

/** A rule istiod leaves out, with its reason (istiod logs these; `authz eval` can show them). */
export interface SkippedRule {
  readonly name: string;
  readonly reason: string;
}

export interface BuiltRbacRules {
  /** Enforced rules; undefined when every policy is dry-run (Envoy then enforces nothing). */
  readonly rules: ConfigRBAC | undefined;
  /** Dry-run rules; undefined when no policy is dry-run. */
  readonly shadowRules: ConfigRBAC | undefined;
  readonly skipped: readonly SkippedRule[];
}

const ENVOY_ACTION: Record<GenerateAction, RBAC_Action> = { ALLOW: RBAC_Action.ALLOW, DENY: RBAC_Action.DENY, LOG: RBAC_Action.LOG };

/** The RBAC action a policy action maps to (AUDIT -> LOG; CUSTOM evaluates as DENY in shadow mode). */
export function envoyActionFor(action: AuthorizationAction): GenerateAction {
  return action === 'AUDIT' ? 'LOG' : action === 'ALLOW' ? 'ALLOW' : 'DENY';
}

/** builder.policyName: `<prefix>ns[<ns>]-policy[<name>]-rule[<i>]`. */
export function policyName(namespace: string, name: string, rule: number, prefix = ''): string {
  return `${prefix}ns[${namespace}]-policy[${name}]-rule[${rule}]`;
}

/** Where a policy's rules go: the enforced set or the shadow set. */
export type RuleSetPicker = (policy: AuthorizationPolicy) => 'rules' | 'shadow';

/**
 * builder.build for one action: every rule of every policy (in order) generated for HTTP or TCP. Policies are
 * taken as given: callers pass one action's bucket (buildHttpRbac/buildTcpRbac filter by action first).
 */
export function buildRbacRules(
  policies: readonly AuthorizationPolicy[],
  action: GenerateAction,
  forTCP: boolean,
  opts: RbacBuildOptions,
  naming: { readonly prefix: (p: AuthorizationPolicy) => string; readonly pick: RuleSetPicker } = {
    prefix: () => '',
    pick: (p) => (opts.dryRun !== 'enforce' && isDryRun(p) ? 'shadow' : 'rules'),
  },
): BuiltRbacRules {
  const bundle = trustDomainBundle(opts.trustDomain, opts.trustDomainAliases);
  const useAuthenticated = opts.useFilterState !== true;
  const enforce = create(ConfigRBACSchema, { action: ENVOY_ACTION[action] });
  const shadow = create(ConfigRBACSchema, { action: ENVOY_ACTION[action] });
  let hasEnforce = false;
  let hasShadow = false;
  const skipped: SkippedRule[] = [];
  for (const p of policies) {
    const ns = p.metadata.namespace ?? 'default';
    const target = naming.pick(p) === 'shadow' ? shadow : enforce;
    if (target === shadow) hasShadow = true;
    else hasEnforce = true;
    const rules = p.spec.rules ?? [];
    rules.forEach((rule, i) => {
      const name = policyName(ns, p.metadata.name, i, naming.prefix(p));
      const m = buildRuleModel(ns, rule);
      if (!m.ok) {
        skipped.push({ name, reason: `skipped invalid rule ${name}: ${m.reason}` });
        return;
      }
      const g = generatePolicy(migrateTrustDomain(m.model, bundle), forTCP, useAuthenticated, action);
      if (!g.ok) {
        skipped.push({ name, reason: `skipped rule ${name} on ${forTCP ? 'TCP' : 'HTTP'} filter chain: ${g.reason}` });
        return;
      }
      target.policies[name] = g.policy;
    });
    // No rules at all (`spec: {}`): an explicit policy that never matches (ALLOW nothing).
    if (rules.length === 0) target.policies[policyName(ns, p.metadata.name, 0, naming.prefix(p))] = policyMatchNever();
  }
  return { rules: hasEnforce ? enforce : undefined, shadowRules: hasShadow ? shadow : undefined, skipped };
}

/** builder.shadowRuleStatPrefix (Go reads the action of a nil RBAC as ALLOW, hence the allow prefix by default). */
function shadowStatPrefix(shadow: ConfigRBAC | undefined): string {
  const a = shadow?.action ?? RBAC_Action.ALLOW;
  return a === RBAC_Action.ALLOW ? SHADOW_ALLOW_STAT_PREFIX : a === RBAC_Action.DENY ? SHADOW_DENY_STAT_PREFIX : '';
}

function ofAction(policies: readonly AuthorizationPolicy[], action: RbacAction): AuthorizationPolicy[] {
  return policies.filter((p) => effectiveAction(p) === action);
}

/**
 * The HTTP RBAC filter config for the policies of `action` (others in the list are ignored); undefined when none
 * has that action (istiod then emits no filter).
 */
export function buildHttpRbac(policies: readonly AuthorizationPolicy[], action: RbacAction, opts: RbacBuildOptions): HttpRBAC | undefined {
  const mine = ofAction(policies, action);
  if (mine.length === 0) return undefined;
  const built = buildRbacRules(mine, envoyActionFor(action), false, opts);
  return create(HttpRBACSchema, {
    ...(built.rules !== undefined ? { rules: built.rules } : {}),
    ...(built.shadowRules !== undefined ? { shadowRules: built.shadowRules } : {}),
    shadowRulesStatPrefix: shadowStatPrefix(built.shadowRules),
  });
}

/**
 * The network (TCP) RBAC filter config, stat prefix `tcp.`. HTTP-only attributes (hosts, methods, paths,
 * requestPrincipals, request.headers, request.auth.*): an ALLOW rule using one is dropped, a DENY/AUDIT rule
 * drops just that attribute; an ALLOW policy left without rules allows nothing.
 */
export function buildTcpRbac(policies: readonly AuthorizationPolicy[], action: RbacAction, opts: RbacBuildOptions): NetworkRBAC | undefined {
  const mine = ofAction(policies, action);
  if (mine.length === 0) return undefined;
  const built = buildRbacRules(mine, envoyActionFor(action), true, opts);
  return create(NetworkRBACSchema, {
    ...(built.rules !== undefined ? { rules: built.rules } : {}),
    ...(built.shadowRules !== undefined ? { shadowRules: built.shadowRules } : {}),
    statPrefix: TCP_RBAC_STAT_PREFIX,
    shadowRulesStatPrefix: shadowStatPrefix(built.shadowRules),
  });
}
