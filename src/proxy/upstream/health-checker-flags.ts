// Envoy's host health flags as the admin /clusters `health_flags` value (HostUtility::healthFlagsToString in
// source/common/upstream/host_utility.cc): `healthy` when no flag is set, else every set flag as
// `/<name>` in Envoy's fixed order. Pure formatting; the flags come from EDS, outlier detection and the
// active health checker.

export interface HostHealthFlags {
  readonly failedActiveHc?: boolean;
  readonly failedOutlierCheck?: boolean;
  readonly failedEdsHealth?: boolean;
  readonly degradedActiveHc?: boolean;
  readonly degradedEdsHealth?: boolean;
  readonly pendingDynamicRemoval?: boolean;
  readonly pendingActiveHc?: boolean;
  readonly excludedViaImmediateHcFail?: boolean;
  readonly activeHcTimeout?: boolean;
}

const ORDER: readonly (readonly [keyof HostHealthFlags, string])[] = [
  ['failedActiveHc', '/failed_active_hc'],
  ['failedOutlierCheck', '/failed_outlier_check'],
  ['failedEdsHealth', '/failed_eds_health'],
  ['degradedActiveHc', '/degraded_active_hc'],
  ['degradedEdsHealth', '/degraded_eds_health'],
  ['pendingDynamicRemoval', '/pending_dynamic_removal'],
  ['pendingActiveHc', '/pending_active_hc'],
  ['excludedViaImmediateHcFail', '/excluded_via_immediate_hc_fail'],
  ['activeHcTimeout', '/active_hc_timeout'],
];

export function healthFlagsText(f: HostHealthFlags): string {
  let s = '';
  for (const [k, text] of ORDER) if (f[k] === true) s += text;
  return s === '' ? 'healthy' : s;
}
