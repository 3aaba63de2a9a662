// istiod's feature flags that change translation (Istio's pilot/pkg/features), as one immutable value the
// control plane reads once at start and hands to every snapshot it builds (MeshSnapshot.features). Only the
// flags Isthmus implements are here; each keeps Istio's variable name, default and parsing.
// This module reads no environment itself: pilotFeaturesFromEnv is given the variables by its caller (the
// commands that start a control plane), so translation stays pure.
// Keep ONE PilotFeatures object per control plane: every snapshot it builds then carries the same object, and
// translation memoized against one snapshot (translate/memo.ts replays snapshot reads, comparing answers by
// identity first) stays valid for the next.

import { warning, type Issue } from '../lib/issue.js';

export interface PilotFeatures {
  /**
   * PILOT_ENABLE_PERSISTENT_SESSION_FILTER (default false): sidecar outbound and gateway HTTP connection
   * managers get an empty envoy.filters.http.stateful_session filter, and routes and virtual hosts of services
   * labelled with one of the labels below get its per-route config (pilot/pkg/features/experimental.go).
   */
  readonly enablePersistentSessionFilter: boolean;
  /**
   * PILOT_PERSISTENT_SESSION_LABEL (default `istio.io/persistent-session`): a service with this label uses
   * cookie sessions, the value naming the cookie (`name` or `name:path`). '' turns cookie sessions off.
   */
  readonly persistentSessionLabel: string;
  /**
   * PILOT_PERSISTENT_SESSION_HEADER_LABEL (default `istio.io/persistent-session-header`): a service with this
   * label uses header sessions, the value naming the header. '' turns header sessions off.
   */
  readonly persistentSessionHeaderLabel: string;
  /**
   * PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS (default false): a workload's CUSTOM AuthorizationPolicies may
   * name several providers, each getting its own RBAC shadow and ext_authz filter pair; without it such a
   * workload gets deny-all filters (pilot/pkg/features/security.go).
   */
  readonly enableMultipleCustomAuthzProviders: boolean;
}

export const ENABLE_PERSISTENT_SESSION_FILTER_ENV = 'PILOT_ENABLE_PERSISTENT_SESSION_FILTER';
export const PERSISTENT_SESSION_LABEL_ENV = 'PILOT_PERSISTENT_SESSION_LABEL';
export const PERSISTENT_SESSION_HEADER_LABEL_ENV = 'PILOT_PERSISTENT_SESSION_HEADER_LABEL';
export const ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS_ENV = 'PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS';

/** istiod's defaults (pilot/pkg/features/experimental.go). */
export const DEFAULT_PILOT_FEATURES: PilotFeatures = Object.freeze({
  enablePersistentSessionFilter: false,
  persistentSessionLabel: 'istio.io/persistent-session',
  persistentSessionHeaderLabel: 'istio.io/persistent-session-header',
  enableMultipleCustomAuthzProviders: false,
});

/** Go's strconv.ParseBool: exactly these spellings, nothing trimmed; undefined for anything else. */
export function parseGoBool(s: string): boolean | undefined {
  switch (s) {
    case '1':
    case 't':
    case 'T':
    case 'true':
    case 'TRUE':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'false':
    case 'FALSE':
    case 'False':
      return false;
    default:
      return undefined;
  }
}

export interface PilotFeaturesFromEnv {
  /** Frozen; the defaults object itself when no variable is set. */
  readonly features: PilotFeatures;
  /** Variables whose value was refused (the default is kept), one warning each, path = the variable's name. */
  readonly problems: readonly Issue[];
}

/**
 * The features as istiod reads them (pkg/env): a variable that is set, even to '', counts; a string variable
 * is taken as is (so '' turns a label off); a boolean is Go's strconv.ParseBool, and a value it refuses keeps
 * the default with Istio's warning "Invalid environment variable value `<v>`, expecting true/false,
 * defaulting to <default>" (pkg/env/var.go BoolVar.Lookup).
 */
export function pilotFeaturesFromEnv(env: Readonly<Record<string, string | undefined>>): PilotFeaturesFromEnv {
  const problems: Issue[] = [];
  const d = DEFAULT_PILOT_FEATURES;
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined) return fallback;
    const b = parseGoBool(raw);
    if (b !== undefined) return b;
    problems.push(warning(name, `Invalid environment variable value \`${raw}\`, expecting true/false, defaulting to ${String(fallback)}`));
    return fallback;
  };
  const read: PilotFeatures = {
    enablePersistentSessionFilter: bool(ENABLE_PERSISTENT_SESSION_FILTER_ENV, d.enablePersistentSessionFilter),
    persistentSessionLabel: env[PERSISTENT_SESSION_LABEL_ENV] ?? d.persistentSessionLabel,
    persistentSessionHeaderLabel: env[PERSISTENT_SESSION_HEADER_LABEL_ENV] ?? d.persistentSessionHeaderLabel,
    enableMultipleCustomAuthzProviders: bool(ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS_ENV, d.enableMultipleCustomAuthzProviders),
  };
  const same = (Object.keys(d) as (keyof PilotFeatures)[]).every((k) => read[k] === d[k]);
  const features = same ? d : Object.freeze(read);
  return { features, problems: Object.freeze(problems) };
}
