// Which WasmPlugins apply to one listener of a proxy, by phase and in order (Istio's
// PushContext.WasmPluginsByListenerInfo and WasmPluginWrapper.MatchListener/MatchType, pilot/pkg/model
// push_context.go and extensions.go):
//  - candidates are the plugins of the proxy's namespace, then those of the root namespace, each list oldest
//    first (then by name);
//  - a plugin attaches as policies do (policy-attachment.ts): by `selector` (none = every workload; a root
//    namespace plugin without one applies mesh-wide), or, on a Gateway API gateway, by `targetRefs` naming it;
//  - `match` narrows it to traffic: no selector matches everything; otherwise one selector must match the
//    listener's mode (CLIENT for sidecar outbound and gateway listeners, SERVER for sidecar inbound, as
//    workloadModeForListenerClass; UNDEFINED and CLIENT_AND_SERVER match both) and, when it lists ports, its port;
//  - `type` NETWORK plugins go in network filter chains, HTTP and unspecified ones in HCMs;
//  - within a phase, higher priority first; a plugin without priority sorts as the lowest int32 (Istio's code;
//    its API docs say "defaults to 0"); ties keep the candidate order above (stable sort).

import type { PluginPhase, TrafficSelector, WasmPlugin } from '../../api/extensions/wasm-plugin.js';
import { effectivePhase, effectivePluginType } from '../../api/extensions/wasm-plugin.js';
import type { ProxyContext } from '../context.js';
import type { ListenerClass } from '../listener/http-filters.js';
import { shouldAttachPolicy, type PolicyWorkload } from '../policy-attachment.js';

export interface WasmListenerInfo {
  readonly class: ListenerClass;
  /** The listener's port (inbound: the target port; 0 for the catch-all passthrough chains). */
  readonly port: number;
}

export type WasmChainType = 'HTTP' | 'NETWORK';

/** Plugins per phase, each list in the order its filters run. */
export type PhasedWasmPlugins = Readonly<Record<PluginPhase, readonly WasmPlugin[]>>;

const INT32_MIN = -2147483648;

const EMPTY: PhasedWasmPlugins = Object.freeze({ UNSPECIFIED_PHASE: [], AUTHN: [], AUTHZ: [], STATS: [] });

/** workloadModeForListenerClass */
function modeOf(cls: ListenerClass): 'CLIENT' | 'SERVER' {
  return cls === 'sidecar-inbound' ? 'SERVER' : 'CLIENT';
}

/** matchTrafficSelectors */
export function matchesTraffic(match: readonly TrafficSelector[] | undefined, info: WasmListenerInfo): boolean {
  if (match === undefined || match.length === 0) return true;
  return match.some((ts) => {
    const mode = ts.mode ?? 'UNDEFINED';
    const modeOk = mode === 'UNDEFINED' || mode === 'CLIENT_AND_SERVER' || mode === modeOf(info.class);
    const ports = ts.ports ?? [];
    const portOk = ports.length === 0 || ports.some((p) => (p.number ?? 0) !== 0 && p.number === info.port);
    return modeOk && portOk;
  });
}

function priorityOf(wp: WasmPlugin): number {
  return wp.spec.priority ?? INT32_MIN;
}

/**
 * The plugins among `candidates` (proxy namespace first, then root namespace, each oldest first) that apply to
 * a listener of the workload `w`, grouped by phase and ordered.
 */
export function selectWasmPlugins(candidates: readonly WasmPlugin[], w: PolicyWorkload, info: WasmListenerInfo, type: WasmChainType): PhasedWasmPlugins {
  const out: Record<PluginPhase, WasmPlugin[]> = { UNSPECIFIED_PHASE: [], AUTHN: [], AUTHZ: [], STATS: [] };
  let any = false;
  for (const wp of candidates) {
    if (effectivePluginType(wp) !== type) continue;
    if (!shouldAttachPolicy(wp, w) || !matchesTraffic(wp.spec.match, info)) continue;
    out[effectivePhase(wp)].push(wp);
    any = true;
  }
  if (!any) return EMPTY;
  for (const list of Object.values(out)) list.sort((a, b) => priorityOf(b) - priorityOf(a));
  return out;
}

/** The proxy's namespace's plugins, then the root namespace's (once when they are the same). */
export function candidateWasmPlugins(ctx: ProxyContext): readonly WasmPlugin[] {
  const root = ctx.snapshot.mesh.rootNamespace;
  const ns = ctx.proxy.namespace;
  const own = ctx.snapshot.wasmPlugins(ns);
  return ns === root ? own : [...own, ...ctx.snapshot.wasmPlugins(root)];
}

const memo = new WeakMap<ProxyContext, { candidates: readonly WasmPlugin[]; byListener: Map<string, PhasedWasmPlugins> }>();

/** selectWasmPlugins for this proxy, memoized per translation. */
export function wasmPluginsForListener(ctx: ProxyContext, info: WasmListenerInfo, type: WasmChainType): PhasedWasmPlugins {
  if (ctx.proxy.type === 'proxyless') return EMPTY;
  let m = memo.get(ctx);
  if (m === undefined) {
    m = { candidates: candidateWasmPlugins(ctx), byListener: new Map() };
    memo.set(ctx, m);
  }
  if (m.candidates.length === 0) return EMPTY;
  const key = `${info.class}|${info.port}|${type}`;
  let out = m.byListener.get(key);
  if (out === undefined) {
    out = selectWasmPlugins(m.candidates, { namespace: ctx.proxy.namespace, labels: ctx.proxy.labels }, info, type);
    m.byListener.set(key, out);
  }
  return out;
}

export function hasWasmPlugins(p: PhasedWasmPlugins): boolean {
  return p.AUTHN.length + p.AUTHZ.length + p.STATS.length + p.UNSPECIFIED_PHASE.length > 0;
}
