// Builds the frozen MeshSnapshot from validated config entries and the registry snapshot. The one place
// where config is indexed for translation; everything a proxy's translation asks is answered from here.

import type { Issue } from '../lib/issue.js';
import type { ResourceEntry } from '../api/entry.js';
import { isKind } from '../api/kind.js';
import { VIRTUAL_SERVICE, type VirtualService } from '../api/networking/virtual-service.js';
import { DESTINATION_RULE, type DestinationRule } from '../api/networking/destination-rule.js';
import { ISTIO_GATEWAY } from '../api/networking/gateway.js';
import { SIDECAR } from '../api/networking/sidecar.js';
import { SECRET, secretData, type Secret } from '../api/core/secret.js';
import { AUTHORIZATION_POLICY, type AuthorizationPolicy } from '../api/security/authorization-policy.js';
import { PEER_AUTHENTICATION, type PeerAuthentication } from '../api/security/peer-authentication.js';
import { REQUEST_AUTHENTICATION, type RequestAuthentication } from '../api/security/request-authentication.js';
import { WASM_PLUGIN, type WasmPlugin } from '../api/extensions/wasm-plugin.js';
import { TELEMETRY, type Telemetry } from '../api/telemetry/telemetry.js';
import { buildRegistry, type RegistrySnapshot } from '../registry/build-registry.js';
import { serviceKey } from '../registry/build-registry.js';
import { selectorMatches } from '../registry/labels.js';
import { resolveTargetPort } from '../registry/kubernetes.js';
import type { Endpoint, Service, Workload } from '../registry/types.js';
import { DestinationRuleIndex } from './destination-rules.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from './mesh-config.js';
import { DEFAULT_PILOT_FEATURES, type PilotFeatures } from './pilot-features.js';
import type {
  DestinationRuleView,
  GatewayView,
  MeshSnapshot,
  ProxyScope,
  SecretView,
  ServiceTarget,
  SidecarView,
  VirtualServiceView,
} from './snapshot.js';
import { buildVirtualServiceViews } from './virtual-services.js';
import { trackReads } from './snapshot-reads.js';
import { convertGatewayApi } from './gateway-api/convert.js';

export interface SnapshotInput {
  readonly version: string;
  readonly mesh: MeshConfig;
  /** istiod's feature flags; DEFAULT_PILOT_FEATURES when absent. Pass the same object to every rebuild. */
  readonly features?: PilotFeatures;
  readonly entries: readonly ResourceEntry[];
  readonly registry: RegistrySnapshot;
  /** JWKS documents by jwksUri, as the control plane's resolver last fetched them. */
  readonly jwks?: ReadonlyMap<string, string>;
}

/** Security policies (and WasmPlugins and Telemetries, selected the same way) by namespace, each list oldest first. */
interface SecurityIndex {
  readonly authz: ReadonlyMap<string, readonly AuthorizationPolicy[]>;
  readonly peer: ReadonlyMap<string, readonly PeerAuthentication[]>;
  readonly request: ReadonlyMap<string, readonly RequestAuthentication[]>;
  readonly wasm: ReadonlyMap<string, readonly WasmPlugin[]>;
  readonly telemetry: ReadonlyMap<string, readonly Telemetry[]>;
}

const NONE: readonly never[] = Object.freeze([]);

function byNamespace<T extends { metadata: { namespace?: string | undefined; name: string; creationTimestamp?: string | null | undefined } }>(list: T[]): ReadonlyMap<string, readonly T[]> {
  const m = new Map<string, T[]>();
  for (const r of list.sort(byAge)) {
    const ns = r.metadata.namespace ?? 'default';
    const l = m.get(ns);
    if (l === undefined) m.set(ns, [r]);
    else l.push(r);
  }
  for (const l of m.values()) Object.freeze(l);
  return m;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byAge<T extends { metadata: { namespace?: string | undefined; name: string; creationTimestamp?: string | null | undefined } }>(a: T, b: T): number {
  return (
    cmp(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
    cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') ||
    cmp(a.metadata.name, b.metadata.name)
  );
}

function visibleTo(exportTo: readonly string[], namespace: string, own: string): boolean {
  return own === namespace || exportTo.includes('*') || exportTo.includes(namespace);
}

class Snapshot implements MeshSnapshot {
  readonly #visible = new Map<string, readonly Service[]>();
  readonly #vsCache = new Map<string, readonly VirtualServiceView[]>();
  readonly #endpointsByHost = new Map<string, readonly Endpoint[]>();
  /** Every service with a hostname (usually one; more when namespaces define the same host). */
  readonly #byHostname = new Map<string, Service[]>();

  constructor(
    readonly version: string,
    readonly mesh: MeshConfig,
    readonly features: PilotFeatures,
    readonly services: readonly Service[],
    readonly workloads: readonly Workload[],
    readonly problems: readonly Issue[],
    private readonly registry: RegistrySnapshot,
    private readonly vsViews: readonly VirtualServiceView[],
    private readonly drIndex: DestinationRuleIndex,
    private readonly gateways: readonly GatewayView[],
    private readonly sidecars: readonly SidecarView[],
    private readonly secrets: ReadonlyMap<string, SecretView>,
    private readonly security: SecurityIndex,
    private readonly jwksByUri: ReadonlyMap<string, string>,
  ) {
    for (const s of services) {
      const list = this.#byHostname.get(s.hostname);
      if (list === undefined) this.#byHostname.set(s.hostname, [s]);
      else list.push(s);
    }
  }

  servicesVisibleTo(namespace: string): readonly Service[] {
    let out = this.#visible.get(namespace);
    if (out !== undefined) return out;
    const byHost = new Map<string, Service>();
    for (const s of this.services) {
      if (!visibleTo(s.exportTo, namespace, s.namespace)) continue;
      const cur = byHost.get(s.hostname);
      if (cur === undefined || preferred(s, cur, namespace)) byHost.set(s.hostname, s);
    }
    out = Object.freeze([...byHost.values()].sort((a, b) => cmp(a.hostname, b.hostname)));
    this.#visible.set(namespace, out);
    return out;
  }

  serviceFor(hostname: string, namespace: string): Service | undefined {
    let found: Service | undefined;
    for (const s of this.#byHostname.get(hostname) ?? []) {
      if (!visibleTo(s.exportTo, namespace, s.namespace)) continue;
      if (found === undefined || preferred(s, found, namespace)) found = s;
    }
    return found;
  }

  endpoints(hostname: string, port: number): readonly Endpoint[] {
    const key = `${hostname}|${port}`;
    let out = this.#endpointsByHost.get(key);
    if (out !== undefined) return out;
    // Endpoints of every service with this hostname (a hostname defined in two namespaces serves both).
    const list: Endpoint[] = [];
    for (const s of this.#byHostname.get(hostname) ?? []) {
      for (const e of this.registry.endpoints.get(serviceKey(s.hostname, s.namespace)) ?? []) if (e.servicePort === port) list.push(e);
    }
    out = Object.freeze(list);
    this.#endpointsByHost.set(key, out);
    return out;
  }

  serviceTargets(scope: ProxyScope): readonly ServiceTarget[] {
    const workload = this.workloads.find((w) => w.namespace === scope.namespace && scope.ipAddresses.includes(w.address));
    const out: ServiceTarget[] = [];
    for (const s of this.services) {
      if (s.namespace !== scope.namespace || s.selector === undefined || !selectorMatches(s.selector, scope.labels)) continue;
      for (const port of s.ports) {
        const target = workload !== undefined ? resolveTargetPort(port, workload) : typeof port.targetPort === 'number' ? port.targetPort : undefined;
        out.push({ service: s, port, targetPort: target ?? port.port });
      }
    }
    return out;
  }

  virtualServices(namespace: string, gateway: string): readonly VirtualServiceView[] {
    const key = `${namespace}\n${gateway}`;
    let out = this.#vsCache.get(key);
    if (out === undefined) {
      out = Object.freeze(
        this.vsViews.filter((v) => visibleTo(v.exportTo, namespace, v.namespace) && (v.gateways.includes(gateway) || httpMatchGateways(v).has(gateway))),
      );
      this.#vsCache.set(key, out);
    }
    return out;
  }

  destinationRule(scope: ProxyScope, hostname: string): DestinationRuleView | undefined {
    return this.drIndex.lookup(scope, hostname, this.serviceFor(hostname, scope.namespace)?.namespace);
  }

  gatewaysFor(scope: ProxyScope): readonly GatewayView[] {
    return this.gateways.filter((g) => selectorMatches(g.selector, scope.labels));
  }

  secret(namespace: string, name: string): SecretView | undefined {
    return this.secrets.get(`${namespace}/${name}`);
  }

  authorizationPolicies(namespace: string): readonly AuthorizationPolicy[] {
    return this.security.authz.get(namespace) ?? NONE;
  }

  peerAuthentications(namespace: string): readonly PeerAuthentication[] {
    return this.security.peer.get(namespace) ?? NONE;
  }

  requestAuthentications(namespace: string): readonly RequestAuthentication[] {
    return this.security.request.get(namespace) ?? NONE;
  }

  wasmPlugins(namespace: string): readonly WasmPlugin[] {
    return this.security.wasm.get(namespace) ?? NONE;
  }

  telemetries(namespace: string): readonly Telemetry[] {
    return this.security.telemetry.get(namespace) ?? NONE;
  }

  jwks(uri: string): string | undefined {
    return this.jwksByUri.get(uri);
  }

  sidecarFor(scope: ProxyScope): SidecarView | undefined {
    const own = this.sidecars.filter((s) => s.namespace === scope.namespace);
    return (
      own.find((s) => s.selector !== undefined && selectorMatches(s.selector, scope.labels)) ??
      own.find((s) => s.selector === undefined) ??
      this.sidecars.find((s) => s.namespace === this.mesh.rootNamespace && s.selector === undefined)
    );
  }
}

/** Gateways named in route-level matches: a VirtualService bound to a gateway only through `match.gateways` still applies there. */
function httpMatchGateways(v: VirtualServiceView): Set<string> {
  const out = new Set<string>();
  for (const r of v.spec.http ?? []) for (const m of r.match ?? []) for (const g of m.gateways ?? []) out.add(g);
  return out;
}

/** Which of two services with one hostname a proxy in `namespace` uses: its own namespace's, then Kubernetes', then the oldest. */
function preferred(a: Service, b: Service, namespace: string): boolean {
  if ((a.namespace === namespace) !== (b.namespace === namespace)) return a.namespace === namespace;
  if (a.source !== b.source) return a.source === 'Kubernetes';
  return (cmp(a.creationTimestamp, b.creationTimestamp) || cmp(a.namespace, b.namespace) || cmp(a.name, b.name)) < 0;
}

/** The frozen view of a Secret: data with stringData merged in, as base64. */
function secretView(r: Secret): SecretView {
  const ns = r.metadata.namespace ?? 'default';
  const data: Record<string, string> = {};
  for (const [k, v] of secretData(r)) data[k] = Buffer.from(v).toString('base64');
  return Object.freeze({ ref: { kind: 'Secret', namespace: ns, name: r.metadata.name }, namespace: ns, name: r.metadata.name, type: r.type ?? 'Opaque', data: Object.freeze(data) });
}

// Structural sharing: a rebuild reuses the views of resources that did not change (the config store keeps
// an unchanged resource the same object), so caches keyed by view identity (translate/memo.ts) and the
// reads recorded against the previous snapshot (snapshot-reads.ts) still hold for what did not change.
// Every view is a pure function of what it is keyed by, so reusing one never changes an answer.

/** View of one resource (Gateway, Sidecar, Secret) -> built once per resource object. */
const resourceViews = new WeakMap<object, GatewayView | SidecarView | SecretView>();

function sharedView<V extends GatewayView | SidecarView | SecretView>(resource: object, build: () => V): V {
  let v = resourceViews.get(resource) as V | undefined;
  if (v === undefined) {
    v = build();
    resourceViews.set(resource, v);
  }
  return v;
}

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The VirtualService views last built from a list, by the list's first VirtualService: reused while the same
 * VirtualService objects come in (delegates make one view depend on others, so the list is the unit).
 */
const lastVirtualServices = new WeakMap<object, { input: readonly VirtualService[]; domainSuffix: string; views: readonly VirtualServiceView[]; problems: readonly Issue[] }>();

function virtualServiceViews(vss: readonly VirtualService[], domainSuffix: string, problems: Issue[]): readonly VirtualServiceView[] {
  const first = vss[0];
  const last = first !== undefined ? lastVirtualServices.get(first) : undefined;
  if (last !== undefined && last.domainSuffix === domainSuffix && sameItems(last.input, vss)) {
    problems.push(...last.problems);
    return last.views;
  }
  const own: Issue[] = [];
  const built = buildVirtualServiceViews(vss, domainSuffix, own);
  problems.push(...own);
  if (first !== undefined) lastVirtualServices.set(first, { input: vss, domainSuffix, views: built, problems: own });
  return built;
}

/** The DestinationRule index last built from a list, by the list's first rule: reused while the same rule objects come in (rules for one host merge). */
const lastDestinationRules = new WeakMap<object, { input: readonly DestinationRule[]; domainSuffix: string; rootNamespace: string; index: DestinationRuleIndex }>();

function destinationRuleIndex(drs: readonly DestinationRule[], domainSuffix: string, rootNamespace: string): DestinationRuleIndex {
  const first = drs[0];
  const last = first !== undefined ? lastDestinationRules.get(first) : undefined;
  if (last !== undefined && last.domainSuffix === domainSuffix && last.rootNamespace === rootNamespace && sameItems(last.input, drs)) return last.index;
  const index = new DestinationRuleIndex(drs, domainSuffix, rootNamespace);
  if (first !== undefined) lastDestinationRules.set(first, { input: drs, domainSuffix, rootNamespace, index });
  return index;
}

export function buildMeshSnapshot(input: SnapshotInput): MeshSnapshot {
  const problems: Issue[] = [];
  const vss: VirtualService[] = [];
  const drs: DestinationRule[] = [];
  const gateways: GatewayView[] = [];
  const sidecars: SidecarView[] = [];
  const secrets = new Map<string, SecretView>();
  const authz: AuthorizationPolicy[] = [];
  const peer: PeerAuthentication[] = [];
  const request: RequestAuthentication[] = [];
  const wasm: WasmPlugin[] = [];
  const telemetry: Telemetry[] = [];
  for (const e of input.entries) {
    const r = e.resource;
    if (isKind(r, VIRTUAL_SERVICE)) vss.push(r);
    else if (isKind(r, AUTHORIZATION_POLICY)) authz.push(r);
    else if (isKind(r, PEER_AUTHENTICATION)) peer.push(r);
    else if (isKind(r, REQUEST_AUTHENTICATION)) request.push(r);
    else if (isKind(r, WASM_PLUGIN)) wasm.push(r);
    else if (isKind(r, TELEMETRY)) telemetry.push(r);
    else if (isKind(r, DESTINATION_RULE)) drs.push(r);
    else if (isKind(r, ISTIO_GATEWAY)) {
      const ns = r.metadata.namespace ?? 'default';
      gateways.push(
        sharedView(r, () =>
          Object.freeze({
            ref: { kind: 'Gateway', namespace: ns, name: r.metadata.name },
            key: `${ns}/${r.metadata.name}`,
            namespace: ns,
            name: r.metadata.name,
            selector: r.spec.selector ?? {},
            servers: r.spec.servers ?? [],
          }),
        ),
      );
    } else if (isKind(r, SECRET)) {
      const view = sharedView(r, () => secretView(r));
      secrets.set(`${view.namespace}/${view.name}`, view);
    } else if (isKind(r, SIDECAR)) {
      const ns = r.metadata.namespace ?? 'default';
      const selector = r.spec.workloadSelector?.labels;
      sidecars.push(
        sharedView(r, () =>
          Object.freeze({
            ref: { kind: 'Sidecar', namespace: ns, name: r.metadata.name },
            namespace: ns,
            ...(selector !== undefined ? { selector } : {}),
            spec: r.spec,
          }),
        ),
      );
    }
  }
  vss.sort(byAge);
  drs.sort(byAge);
  // Kubernetes Gateway API resources as the Istio Gateways and VirtualServices they stand for.
  const gatewayApi = convertGatewayApi({ entries: input.entries, services: input.registry.services, mesh: input.mesh });
  gateways.push(...gatewayApi.gateways);
  problems.push(...gatewayApi.problems);
  gateways.sort((a, b) => cmp(a.key, b.key));
  const views = [...virtualServiceViews(vss, input.mesh.domainSuffix, problems), ...gatewayApi.virtualServices];
  const snapshot = new Snapshot(
    input.version,
    input.mesh,
    input.features ?? DEFAULT_PILOT_FEATURES,
    input.registry.services,
    input.registry.workloads,
    Object.freeze(problems),
    input.registry,
    Object.freeze(views),
    destinationRuleIndex(drs, input.mesh.domainSuffix, input.mesh.rootNamespace),
    Object.freeze(gateways),
    Object.freeze(sidecars),
    secrets,
    { authz: byNamespace(authz), peer: byNamespace(peer), request: byNamespace(request), wasm: byNamespace(wasm), telemetry: byNamespace(telemetry) },
    input.jwks ?? new Map(),
  );
  return trackReads(snapshot);
}

export interface ConfigSnapshotOptions {
  readonly version?: string;
  readonly mesh?: MeshConfig;
  /** istiod's feature flags (read once by the control plane); DEFAULT_PILOT_FEATURES when absent. */
  readonly features?: PilotFeatures;
  /** Workloads registered at run time (LocalWorkloads.list()). */
  readonly localWorkloads?: readonly Workload[];
  /** JWKS documents by jwksUri (the control plane's resolver). */
  readonly jwks?: ReadonlyMap<string, string>;
}

/** Registry and snapshot in one step: what the control plane does on every (debounced) change. */
export function snapshotFromConfig(entries: readonly ResourceEntry[], opts: ConfigSnapshotOptions = {}): MeshSnapshot {
  const mesh = opts.mesh ?? DEFAULT_MESH_CONFIG;
  return buildMeshSnapshot({
    version: opts.version ?? '1',
    mesh,
    ...(opts.features !== undefined ? { features: opts.features } : {}),
    entries,
    registry: buildRegistry(entries, opts.localWorkloads ?? [], mesh.domainSuffix),
    ...(opts.jwks !== undefined ? { jwks: opts.jwks } : {}),
  });
}
