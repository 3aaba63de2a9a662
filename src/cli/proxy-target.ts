// Finding a proxy by name for the daily CLI verbs (proxy-config, request, explain, dashboard envoy),
// as istioctl does with `<pod>[.<namespace>]`: the control plane's /debug/syncz lists the connected
// proxies; a name matches exactly (`reviews-v1-7f9c-x2k4p.default`, or the full node id) or, failing
// that, as a prefix of the pod name in the namespace (`reviews-v1` when one proxy starts with it).
// The proxy's admin address comes from its node metadata (ISTHMUS_ADMIN_ADDRESS, which Isthmus proxies
// send), else Envoy's default, port 15000 on the node's IP; `--admin` overrides both.

import type { Command } from 'commander';
import { IsthmusError } from '../lib/errors.js';
import type { SyncStatus } from '../xds-server/sync-status.js';

/** The argument naming a proxy, as the verbs that read one take it. */
export const PROXY_ARG = 'the proxy: <pod>[.<namespace>], a unique pod-name prefix, or a full node id';

/** How those verbs find it: the `[proxy]` argument, the control plane that lists proxies, or its admin directly. */
export function proxyLocatorOptions(cmd: Command, arg = PROXY_ARG): Command {
  return cmd
    .argument('[proxy]', arg)
    .option('--control-plane <host:port>', 'the control plane monitoring address, to find the proxy', '127.0.0.1:15014')
    .option('--admin <host:port>', "the proxy's admin address (the control plane is not asked)")
    .option('-n, --namespace <ns>', 'namespace of a proxy name that carries none', 'default');
}

export interface ProxyTarget {
  /** `pod.namespace`, Istio's proxy id. */
  readonly id: string;
  readonly nodeId: string;
  readonly type: string;
  /** The node's first IP (the pod IP); the sidecar's capture address in a local mesh. */
  readonly ip: string;
  readonly namespace: string;
  /** `http://host:port` of the proxy's admin. */
  readonly adminUrl: string;
}

export function controlPlaneUrl(controlPlane: string): string {
  return /^https?:\/\//.test(controlPlane) ? controlPlane.replace(/\/+$/, '') : `http://${controlPlane}`;
}

/** A request to the control plane's monitoring port; a failure to connect is ISM_CONNECT naming the address. */
export async function controlPlaneFetch(controlPlane: string, path: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(`${controlPlaneUrl(controlPlane)}${path}`, init);
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    throw new IsthmusError('ISM_CONNECT', `cannot reach the control plane at ${controlPlane}: ${cause} (is \`isthmus up\` running? --control-plane sets the address)`);
  }
}

/** The connected proxies, from the control plane's /debug/syncz. */
export async function listProxies(controlPlane: string): Promise<SyncStatus[]> {
  const res = await controlPlaneFetch(controlPlane, '/debug/syncz');
  if (!res.ok) throw new IsthmusError('ISM_CONNECT', `${controlPlaneUrl(controlPlane)}/debug/syncz: HTTP ${res.status}`);
  const body = (await res.json()) as unknown;
  if (!Array.isArray(body)) throw new IsthmusError('ISM_CONNECT', `${controlPlaneUrl(controlPlane)}/debug/syncz: not a list of proxies`);
  return body as SyncStatus[];
}

export function targetOf(s: SyncStatus, adminOverride?: string): ProxyTarget {
  const parts = s.node_id.split('~');
  const ip = parts[1] ?? '';
  const dot = s.proxy.lastIndexOf('.');
  const admin = adminOverride ?? s.admin_address ?? `${ip.includes(':') ? `[${ip}]` : ip}:15000`;
  return {
    id: s.proxy,
    nodeId: s.node_id,
    type: s.proxy_type ?? parts[0] ?? 'sidecar',
    ip,
    namespace: dot >= 0 ? s.proxy.slice(dot + 1) : 'default',
    adminUrl: /^https?:\/\//.test(admin) ? admin.replace(/\/+$/, '') : `http://${admin}`,
  };
}

/**
 * The one proxy `name` designates among `proxies`: exact `pod.namespace` or node id first, then a
 * unique pod-name prefix within `namespace` (or the namespace the name carries after a dot).
 */
export function pickProxy(proxies: readonly SyncStatus[], name: string, namespace = 'default'): SyncStatus {
  const exact = proxies.find((p) => p.proxy === name || p.node_id === name || p.proxy === `${name}.${namespace}`);
  if (exact !== undefined) return exact;
  const dot = name.indexOf('.');
  const [pod, ns] = dot >= 0 ? [name.slice(0, dot), name.slice(dot + 1)] : [name, namespace];
  const matches = proxies.filter((p) => p.proxy.startsWith(pod) && p.proxy.endsWith(`.${ns}`));
  // Several matches are fine when they are the same proxy seen over several streams.
  const ids = [...new Set(matches.map((p) => p.proxy))].sort();
  if (ids.length === 1) return matches[0] as SyncStatus;
  if (ids.length === 0) {
    const known = [...new Set(proxies.map((p) => p.proxy))].sort();
    throw new IsthmusError('ISM_NOT_FOUND', `no proxy "${name}" in namespace ${ns}${known.length > 0 ? `; connected: ${known.join(', ')}` : ': no proxies are connected'}`);
  }
  throw new IsthmusError('ISM_NOT_FOUND', `"${name}" matches several proxies: ${ids.join(', ')}; name one`);
}

/** Resolves `name` against the control plane's proxies. */
export async function resolveProxy(controlPlane: string, name: string, opts: { namespace?: string; admin?: string } = {}): Promise<ProxyTarget> {
  const proxies = await listProxies(controlPlane);
  return targetOf(pickProxy(proxies, name, opts.namespace), opts.admin);
}
