// What istiod emits for CUSTOM (ext_authz provider) policies (builder.go buildHTTP/buildTCP with IsCustomBuilder,
// extauthz.go), described rather than wired: per provider (sorted), an RBAC filter that never enforces — the
// enforced CUSTOM rules go to shadow_rules (action DENY, stat prefix `istio_ext_authz_`, policy names
// `istio-ext-authz-<provider>-ns[..]-policy[..]-rule[..]`), dry-run ones to rules — followed by an ext_authz filter
// enabled only when the RBAC shadow engine recorded a matching policy id (filter_enabled_metadata below).
// A provider unknown to the mesh config, or several providers without PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS,
// becomes an enforcing DENY config of the same rules instead (suffix `-deny-due-to-bad-CUSTOM-action`), with no
// ext_authz filter. Building the ext_authz filter itself is later work.

import { create } from '@bufbuild/protobuf';
import { effectiveAction, isDryRun, type AuthorizationPolicy } from '../../../api/security/authorization-policy.js';
import { RBAC_Action, RBACSchema as ConfigRBACSchema, type RBAC as ConfigRBAC } from '../../../xds/gen/envoy/config/rbac/v3/rbac_pb.js';
import { RBACSchema as HttpRBACSchema, type RBAC as HttpRBAC } from '../../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RBACSchema as NetworkRBACSchema, type RBAC as NetworkRBAC } from '../../../xds/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import type { MetadataMatcher } from '../../../xds/gen/envoy/type/matcher/v3/metadata_pb.js';
import { HTTP_RBAC_FILTER_NAME, NETWORK_RBAC_FILTER_NAME, TCP_RBAC_STAT_PREFIX, buildRbacRules, type RbacBuildOptions, type SkippedRule } from './build-rbac.js';
import { metadataValueMatcher, stringPrefix, valueString } from './matchers.js';

export const EXT_AUTHZ_MATCH_PREFIX = 'istio-ext-authz';
export const EXT_AUTHZ_SHADOW_STAT_PREFIX = 'istio_ext_authz_';
export const BAD_CUSTOM_ACTION_SUFFIX = '-deny-due-to-bad-CUSTOM-action';
/** Dynamic metadata key the RBAC filter writes the matched shadow policy id under (prefix + shadow_effective_policy_id). */
export const EXT_AUTHZ_POLICY_ID_KEY = `${EXT_AUTHZ_SHADOW_STAT_PREFIX}shadow_effective_policy_id`;

export interface CustomBuildOptions extends RbacBuildOptions {
  /** Providers declared in meshConfig.extensionProviders; when given, any other provider is "bad". */
  readonly knownProviders?: ReadonlySet<string>;
  /** PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS (default false). */
  readonly allowMultipleProviders?: boolean;
}

export type CustomAuthzPlan<R> =
  | {
      readonly kind: 'ext-authz';
      readonly provider: string;
      /** The shadow-mode RBAC filter config. */
      readonly rbac: R;
      /** ext_authz `filter_enabled_metadata`: the RBAC filter recorded a policy id starting `istio-ext-authz-<provider>`. */
      readonly filterEnabledMetadata: MetadataMatcher;
    }
  | {
      readonly kind: 'deny';
      readonly provider: string;
      /** An enforcing DENY config of the provider's (non-dry-run) rules. */
      readonly rbac: R;
      readonly reason: string;
    };

export interface CustomAuthzResult<R> {
  /** RBAC filter name the configs go under (`envoy.filters.http.rbac` / `envoy.filters.network.rbac`). */
  readonly filterName: string;
  readonly plans: readonly CustomAuthzPlan<R>[];
  readonly skipped: readonly SkippedRule[];
}

function providerOf(p: AuthorizationPolicy): string {
  return p.spec.provider?.name ?? '';
}

function badDenyRules(rules: ConfigRBAC | undefined): ConfigRBAC {
  const out = create(ConfigRBACSchema, { action: RBAC_Action.DENY });
  for (const [k, v] of Object.entries(rules?.policies ?? {})) out.policies[k + BAD_CUSTOM_ACTION_SUFFIX] = v;
  return out;
}

/** extauthz.generateFilterMatcherForProvider. */
export function extAuthzFilterEnabledMetadata(rbacFilterName: string, provider: string): MetadataMatcher {
  return metadataValueMatcher(rbacFilterName, EXT_AUTHZ_POLICY_ID_KEY, valueString(stringPrefix(`${EXT_AUTHZ_MATCH_PREFIX}-${provider}`)));
}

function buildCustom<R>(
  policies: readonly AuthorizationPolicy[],
  forTCP: boolean,
  opts: CustomBuildOptions,
  wrap: (rules: ConfigRBAC | undefined, shadow: ConfigRBAC | undefined, shadowPrefix: string) => R,
): CustomAuthzResult<R> {
  const filterName = forTCP ? NETWORK_RBAC_FILTER_NAME : HTTP_RBAC_FILTER_NAME;
  const custom = policies.filter((p) => effectiveAction(p) === 'CUSTOM');
  const providers = [...new Set(custom.map(providerOf))].sort();
  const plans: CustomAuthzPlan<R>[] = [];
  const skipped: SkippedRule[] = [];
  for (const provider of providers) {
    const mine = custom.filter((p) => providerOf(p) === provider);
    const built = buildRbacRules(mine, 'DENY', forTCP, opts, {
      prefix: () => (provider === '' ? `${EXT_AUTHZ_MATCH_PREFIX}-` : `${EXT_AUTHZ_MATCH_PREFIX}-${provider}-`),
      pick: (p) => (opts.dryRun !== 'enforce' && isDryRun(p) ? 'shadow' : 'rules'),
    });
    skipped.push(...built.skipped);
    // Istio creates the provider's enforced rule set even when all its policies are dry-run.
    const enforced = built.rules ?? create(ConfigRBACSchema, { action: RBAC_Action.DENY });
    let bad: string | undefined;
    if (providers.length > 1 && opts.allowMultipleProviders !== true)
      bad = `multiple CUSTOM authorization providers per workload requires PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS feature flag, found ${providers.length} providers: [${providers.join(' ')}]`;
    else if (opts.knownProviders !== undefined && !opts.knownProviders.has(provider))
      bad = `failed to process CUSTOM action for provider ${provider}, will generate deny configs: ${
        opts.knownProviders.size === 0
          ? 'extension provider is either invalid or undefined'
          : `available providers are [${[...opts.knownProviders].sort().join(' ')}] but found "${provider}"`
      }`;
    if (bad !== undefined) {
      plans.push({ kind: 'deny', provider, rbac: wrap(badDenyRules(enforced), undefined, ''), reason: bad });
      continue;
    }
    const dryRun = built.shadowRules !== undefined && Object.keys(built.shadowRules.policies).length > 0 ? built.shadowRules : undefined;
    plans.push({
      kind: 'ext-authz',
      provider,
      rbac: wrap(dryRun, enforced, EXT_AUTHZ_SHADOW_STAT_PREFIX),
      filterEnabledMetadata: extAuthzFilterEnabledMetadata(filterName, provider),
    });
  }
  return { filterName, plans, skipped };
}

/** The HTTP side of CUSTOM policies (others in the list are ignored); no plans when there are none. */
export function buildCustomHttpRbac(policies: readonly AuthorizationPolicy[], opts: CustomBuildOptions): CustomAuthzResult<HttpRBAC> {
  return buildCustom(policies, false, opts, (rules, shadowRules, shadowRulesStatPrefix) =>
    create(HttpRBACSchema, { ...(rules !== undefined ? { rules } : {}), ...(shadowRules !== undefined ? { shadowRules } : {}), shadowRulesStatPrefix }),
  );
}

/**
 * The TCP side. Istio skips providers whose ext_authz service is HTTP-only on TCP chains; which providers those
 * are comes from the mesh config, so callers drop those plans themselves.
 */
export function buildCustomTcpRbac(policies: readonly AuthorizationPolicy[], opts: CustomBuildOptions): CustomAuthzResult<NetworkRBAC> {
  return buildCustom(policies, true, opts, (rules, shadowRules, shadowRulesStatPrefix) =>
    create(NetworkRBACSchema, {
      ...(rules !== undefined ? { rules } : {}),
      ...(shadowRules !== undefined ? { shadowRules } : {}),
      statPrefix: TCP_RBAC_STAT_PREFIX,
      shadowRulesStatPrefix,
    }),
  );
}
