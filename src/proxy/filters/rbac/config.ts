// envoy.filters.http.rbac configuration (envoy.extensions.filters.http.rbac.v3.RBAC) compiled once into
// an immutable RbacFilterConfig: the enforced engine (`rules`), the shadow engine (`shadow_rules`) and
// their stat prefixes. Either engine may be absent: no `rules` means every request is allowed and no
// enforced stats are counted (Envoy: "no engine, allowed by default"). The matcher-based forms
// (`matcher`, `shadow_matcher`) are refused so the update is NACKed rather than not enforced.
// Envoy: docs configuration/http/http_filters/rbac_filter; source/extensions/filters/http/rbac/.

import type { RBAC as RbacFilterProto } from '../../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import type { RBAC } from '../../../xds/gen/envoy/config/rbac/v3/rbac_pb.js';
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

/** The `rules` / `shadow_rules` engines (and the refused matcher forms) of an HTTP or network RBAC config. */
export function compileRbacEngines(
  m: { readonly rules?: RBAC | undefined; readonly shadowRules?: RBAC | undefined; readonly matcher?: unknown; readonly shadowMatcher?: unknown },
  path: string,
): { ok: true; rules: CompiledRbac | undefined; shadowRules: CompiledRbac | undefined } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const engine = (r: RBAC | undefined, field: string): CompiledRbac | undefined => {
    if (r === undefined) return undefined;
    const c = compileRbac(r, `${path}.${field}`);
    if (c.ok) return c.value;
    problems.push(...c.problems);
    return undefined;
  };
  const rules = engine(m.rules, 'rules');
  const shadowRules = engine(m.shadowRules, 'shadow_rules');
  if (m.matcher !== undefined) problems.push(`${path}.matcher: not supported (use rules)`);
  if (m.shadowMatcher !== undefined) problems.push(`${path}.shadow_matcher: not supported (use shadow_rules)`);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rules, shadowRules };
}

export function compileRbacFilter(m: RbacFilterProto, path: string): RbacConfigResult {
  const r = compileRbacEngines(m, path);
  if (!r.ok) return r;
  return { ok: true, value: Object.freeze({ rules: r.rules, shadowRules: r.shadowRules, rulesStatPrefix: m.rulesStatPrefix, shadowRulesStatPrefix: m.shadowRulesStatPrefix }) };
}
