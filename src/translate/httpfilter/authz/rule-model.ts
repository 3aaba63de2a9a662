// One AuthorizationPolicy rule as istiod models it (pilot/pkg/security/authz/model/model.go): each `from` becomes a
// principal and each `to` a permission, with every `when` condition ANDed into all of them, then generated for an
// HTTP or a TCP filter chain. On TCP, an HTTP-only attribute cannot be expressed: in an ALLOW policy the whole rule
// is dropped (a smaller allow), in DENY/AUDIT/CUSTOM only that attribute is (a wider deny). See
// https://istio.io/latest/docs/reference/config/security/authorization-policy/ ("TCP traffic").

import { create } from '@bufbuild/protobuf';
import type { Rule } from '../../../api/security/authorization-policy.js';
import { PolicySchema, type Permission, type Policy, type Principal } from '../../../xds/gen/envoy/config/rbac/v3/rbac_pb.js';
import {
  connSniGenerator, destIpGenerator, destPortGenerator, envoyFilterGenerator, hostGenerator, methodGenerator, pathGenerator,
  remoteIpGenerator, requestAudiencesGenerator, requestClaimGenerator, requestHeaderGenerator, requestPresenterGenerator,
  requestPrincipalGenerator, srcIpGenerator, srcNamespaceGenerator, srcPrincipalGenerator, srcServiceAccountGenerator,
  srcTrustDomainGenerator, type AttributeGenerator, type Generated,
} from './attribute-generators.js';
import { permissionAnd, permissionAny, permissionNot, permissionOr, principalAnd, principalAny, principalNot, principalOr } from './rbac-nodes.js';
import { expandTrustDomainAliases, replaceTrustDomainAliases, type TrustDomainBundle } from './trust-domain-bundle.js';

/** The Envoy action a rule is generated for; only ALLOW turns a generation error into a dropped rule. */
export type GenerateAction = 'ALLOW' | 'DENY' | 'LOG';

interface AttributeRule {
  readonly key: string;
  readonly values: readonly string[];
  readonly notValues: readonly string[];
  readonly gen: AttributeGenerator;
}

/** The rule's principals (one per `from`) and permissions (one per `to`), each a list of ANDed attributes. */
export interface RuleModel {
  readonly principals: readonly (readonly AttributeRule[])[];
  readonly permissions: readonly (readonly AttributeRule[])[];
}

export type ModelResult = { readonly ok: true; readonly model: RuleModel } | { readonly ok: false; readonly reason: string };

const SRC_PRINCIPAL = 'source.principal';
const SRC_TRUST_DOMAIN = 'source.trustDomain';

function attr(key: string, gen: AttributeGenerator, values: readonly string[] | undefined, notValues: readonly string[] | undefined): AttributeRule[] {
  const v = values ?? [];
  const nv = notValues ?? [];
  return v.length === 0 && nv.length === 0 ? [] : [{ key, values: v, notValues: nv, gen }];
}

/** model.New. `policyNamespace` is the default namespace of `serviceAccounts` values without one. */
export function buildRuleModel(policyNamespace: string, rule: Rule): ModelResult {
  const basePermission: AttributeRule[] = [];
  const basePrincipal: AttributeRule[] = [];
  const saGen = srcServiceAccountGenerator(policyNamespace);
  for (const w of rule.when ?? []) {
    const k = w.key ?? '';
    const add = (side: AttributeRule[], gen: AttributeGenerator): void => void side.push(...attr(k, gen, w.values, w.notValues));
    if (k === 'destination.ip') add(basePermission, destIpGenerator);
    else if (k === 'destination.port') add(basePermission, destPortGenerator);
    else if (k === 'connection.sni') add(basePermission, connSniGenerator);
    else if (k.startsWith('experimental.envoy.filters.')) add(basePermission, envoyFilterGenerator);
    else if (k === 'source.ip') add(basePrincipal, srcIpGenerator);
    else if (k === 'remote.ip') add(basePrincipal, remoteIpGenerator);
    else if (k === 'source.namespace') add(basePrincipal, srcNamespaceGenerator);
    else if (k === SRC_TRUST_DOMAIN) add(basePrincipal, srcTrustDomainGenerator);
    else if (k === 'source.serviceAccount') add(basePrincipal, saGen);
    else if (k === SRC_PRINCIPAL) add(basePrincipal, srcPrincipalGenerator);
    else if (k === 'request.auth.principal') add(basePrincipal, requestPrincipalGenerator);
    else if (k === 'request.auth.audiences') add(basePrincipal, requestAudiencesGenerator);
    else if (k === 'request.auth.presenter') add(basePrincipal, requestPresenterGenerator);
    else if (k.startsWith('request.headers')) add(basePrincipal, requestHeaderGenerator);
    else if (k.startsWith('request.auth.claims')) add(basePrincipal, requestClaimGenerator);
    else return { ok: false, reason: `unknown attribute ${k}` };
  }

  // Source and operation fields go in front of the `when` conditions, in Istio's order.
  const principals = (rule.from ?? []).map((f) => {
    const s = f.source;
    if (s === undefined) return [...basePrincipal];
    return [
      ...attr(SRC_PRINCIPAL, srcPrincipalGenerator, s.principals, s.notPrincipals),
      ...attr('request.auth.principal', requestPrincipalGenerator, s.requestPrincipals, s.notRequestPrincipals),
      ...attr('source.serviceAccount', saGen, s.serviceAccounts, s.notServiceAccounts),
      ...attr(SRC_TRUST_DOMAIN, srcTrustDomainGenerator, s.trustDomains, s.notTrustDomains),
      ...attr('source.namespace', srcNamespaceGenerator, s.namespaces, s.notNamespaces),
      ...attr('remote.ip', remoteIpGenerator, s.remoteIpBlocks, s.notRemoteIpBlocks),
      ...attr('source.ip', srcIpGenerator, s.ipBlocks, s.notIpBlocks),
      ...basePrincipal,
    ];
  });
  const permissions = (rule.to ?? []).map((t) => {
    const o = t.operation;
    if (o === undefined) return [...basePermission];
    return [
      ...attr(':authority', hostGenerator, o.hosts, o.notHosts),
      ...attr(':method', methodGenerator, o.methods, o.notMethods),
      ...attr('path-matcher', pathGenerator, o.paths, o.notPaths),
      ...attr('destination.port', destPortGenerator, o.ports, o.notPorts),
      ...basePermission,
    ];
  });
  return {
    ok: true,
    model: {
      principals: principals.length > 0 ? principals : [basePrincipal],
      permissions: permissions.length > 0 ? permissions : [basePermission],
    },
  };
}

/** Model.MigrateTrustDomain: principals follow the bundle's trust domains, trustDomains values expand to aliases. */
export function migrateTrustDomain(model: RuleModel, bundle: TrustDomainBundle): RuleModel {
  const migrate = (r: AttributeRule): AttributeRule => {
    if (r.key === SRC_PRINCIPAL)
      return { ...r, values: replaceTrustDomainAliases(bundle, r.values), notValues: replaceTrustDomainAliases(bundle, r.notValues) };
    if (r.key === SRC_TRUST_DOMAIN)
      return { ...r, values: expandTrustDomainAliases(bundle, r.values), notValues: expandTrustDomainAliases(bundle, r.notValues) };
    return r;
  };
  return { principals: model.principals.map((l) => l.map(migrate)), permissions: model.permissions };
}

type Nodes<T> = { readonly ok: true; readonly nodes: T[] } | { readonly ok: false; readonly reason: string };

/**
 * rule.permission / rule.principal: `values` ORed, `notValues` ORed under a NOT. An error fails the rule only for
 * ALLOW (rule.checkError); otherwise the value is skipped.
 */
function generateAttribute<T>(
  r: AttributeRule,
  action: GenerateAction,
  one: (value: string) => Generated<T>,
  all: (values: readonly string[]) => Generated<T>,
  or: (xs: T[]) => T,
  not: (x: T) => T,
): Nodes<T> {
  const out: T[] = [];
  for (const [values, negate] of [[r.values, false], [r.notValues, true]] as const) {
    if (values.length === 0) continue;
    if (r.gen.kind === 'list') {
      const g = all(values);
      if (!g.ok) {
        if (action === 'ALLOW') return g;
        continue;
      }
      if (g.value !== undefined) out.push(negate ? not(g.value) : g.value);
    } else {
      const alts: T[] = [];
      for (const v of values) {
        const g = one(v);
        if (!g.ok) {
          if (action === 'ALLOW') return g;
          continue;
        }
        if (g.value !== undefined) alts.push(g.value);
      }
      if (alts.length > 0) out.push(negate ? not(or(alts)) : or(alts));
    }
  }
  return { ok: true, nodes: out };
}

const UNREACHABLE = { ok: false, reason: 'generator kind mismatch' } as const;

export type PolicyResult = { readonly ok: true; readonly policy: Policy } | { readonly ok: false; readonly reason: string };

/** Model.Generate: permissions and principals, each an AND (an empty AND becomes `any`). */
export function generatePolicy(model: RuleModel, forTCP: boolean, useAuthenticated: boolean, action: GenerateAction): PolicyResult {
  const permissions: Permission[] = [];
  for (const list of model.permissions) {
    const and: Permission[] = [];
    for (const r of list) {
      const g = generateAttribute<Permission>(
        r, action,
        (v) => (r.gen.kind === 'value' ? r.gen.permission(r.key, v, forTCP) : UNREACHABLE),
        (vs) => (r.gen.kind === 'list' ? r.gen.permission(r.key, vs, forTCP) : UNREACHABLE),
        permissionOr, permissionNot,
      );
      if (!g.ok) return g;
      and.push(...g.nodes);
    }
    permissions.push(permissionAnd(and.length > 0 ? and : [permissionAny()]));
  }
  const principals: Principal[] = [];
  for (const list of model.principals) {
    const and: Principal[] = [];
    for (const r of list) {
      const g = generateAttribute<Principal>(
        r, action,
        (v) => (r.gen.kind === 'value' ? r.gen.principal(r.key, v, forTCP, useAuthenticated) : UNREACHABLE),
        (vs) => (r.gen.kind === 'list' ? r.gen.principal(r.key, vs, forTCP) : UNREACHABLE),
        principalOr, principalNot,
      );
      if (!g.ok) return g;
      and.push(...g.nodes);
    }
    principals.push(principalAnd(and.length > 0 ? and : [principalAny()]));
  }
  return { ok: true, policy: create(PolicySchema, { permissions, principals }) };
}
