// Istio's mergeLogs (pilot/pkg/model/telemetry.go): which access-log providers are in effect for one workload
// mode (CLIENT for outbound listeners and gateways, SERVER for inbound ones), each with its CEL filter or
// disabled, from the `accessLogging` lists of the Telemetries in scope, one list per level (root namespace,
// namespace, each selecting Telemetry), later levels winning. Istio's rules, kept as they are:
//  - with no level at all, the mesh's defaultProviders.accessLogging are in effect, unfiltered;
//  - the providers in scope are those named by the last level that names any (for entries matching the mode),
//    else the defaults;
//  - an entry without providers applies to its parent's providers (the previous entry's, or the defaults);
//  - `disabled: true` turns a provider off for the mode; otherwise it gets the filter of the last matching entry
//    that named it (an entry without providers does not bring its own filter).
// Pure.

import { effectiveMode, type AccessLogging } from '../../api/telemetry/telemetry.js';

/** The logging a provider gets for one mode (Istio's loggingSpec). */
export interface ProviderLogging {
  readonly disabled: boolean;
  /** The CEL filter.expression, when the entry that named the provider has one. */
  readonly filter?: string;
}

export type LogMode = 'CLIENT' | 'SERVER';

function matchesMode(l: AccessLogging, mode: LogMode): boolean {
  const m = effectiveMode(l.match);
  return m === 'CLIENT_AND_SERVER' || m === mode;
}

function names(l: AccessLogging): string[] {
  return (l.providers ?? []).map((p) => p.name ?? '');
}

function spec(l: AccessLogging | undefined): ProviderLogging {
  const expr = l?.filter?.expression;
  return expr !== undefined ? { disabled: false, filter: expr } : { disabled: false };
}

/** mergeLogs: provider name -> its logging for `mode`; levels are the non-empty accessLogging lists, in precedence order. */
export function mergeAccessLogs(levels: readonly (readonly AccessLogging[])[], defaults: readonly string[], mode: LogMode): Map<string, ProviderLogging> {
  const out = new Map<string, ProviderLogging>();
  if (levels.length === 0) {
    for (const d of defaults) out.set(d, { disabled: false });
    return out;
  }
  let inScope: readonly string[] = defaults;
  const namedBy = new Map<string, AccessLogging>();
  for (const level of levels) {
    const levelNames = new Set<string>();
    for (const l of level) {
      if (!matchesMode(l, mode)) continue;
      for (const n of names(l)) {
        levelNames.add(n);
        namedBy.set(n, l);
      }
    }
    if (levelNames.size > 0) inScope = [...levelNames];
  }
  const scope = new Set(inScope);
  let parent: readonly string[] = defaults;
  for (const level of levels) {
    for (const l of level) {
      const own = names(l);
      const providers = own.length > 0 ? own : parent;
      parent = providers;
      if (!matchesMode(l, mode)) continue;
      for (const p of providers) {
        if (!scope.has(p)) continue;
        out.set(p, l.disabled === true ? { disabled: true } : spec(namedBy.get(p)));
      }
    }
  }
  return out;
}
