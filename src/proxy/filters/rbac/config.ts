// envoy.filters.http.rbac configuration (envoy.extensions.filters.http.rbac.v3.RBAC) compiled once into
// an immutable RbacFilterConfig: the enforced engine (`rules`), the shadow engine (`shadow_rules`) and
// their stat prefixes. Either engine may be absent: no `rules` means every request is allowed and no
// enforced stats are counted (Envoy: "no engine, allowed by default"). The matcher-based forms
// (`matcher`, `shadow_matcher`) are refused so the update is NACKed rather than not enforced.
// Envoy: docs configuration/http/http_filters/rbac_filter; source/extensions/filters/http/rbac/.

import type { RBAC as RbacFilterProto } from '../../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { compileRbac, type CompiledRbac } from './engine.js';

export const RBAC_FILTER_TYPE = 'envoy.extensions.filters.http.rbac.v3.RBAC';

export interface RbacFilterConfig {
  readonly rules: CompiledRbac | undefined;
  readonly shadowRules: CompiledRbac | undefined;
  /** Prepended to allowed/denied: http.<hcm stat_prefix>.rbac.<rulesStatPrefix>allowed. */
  readonly rulesStatPrefix: string;
  /** Prepended to shadow_allowed/shadow_denied. */
  readonly shadowRulesStatPrefix: string;
}

export type RbacConfigResult = { readonly ok: true; readonly value: RbacFilterConfig } | { readonly ok: false; readonly problems: string[] };

export function compileRbacFilter(m: RbacFilterProto, path: string): RbacConfigResult {
  const problems: string[] = [];
  let rules: CompiledRbac | undefined;
  let shadowRules: CompiledRbac | undefined;
  if (m.rules !== undefined) {
    const r = compileRbac(m.rules, `${path}.rules`);
    if (r.ok) rules = r.value;
    else problems.push(...r.problems);
  }
  if (m.shadowRules !== undefined) {
    const r = compileRbac(m.shadowRules, `${path}.shadow_rules`);
    if (r.ok) shadowRules = r.value;
    else problems.push(...r.problems);
  }
  if (m.matcher !== undefined) problems.push(`${path}.matcher: not supported (use rules)`);
  if (m.shadowMatcher !== undefined) problems.push(`${path}.shadow_matcher: not supported (use shadow_rules)`);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: Object.freeze({ rules, shadowRules, rulesStatPrefix: m.rulesStatPrefix, shadowRulesStatPrefix: m.shadowRulesStatPrefix }) };
}
