// PeerAuthentication -> the effective mTLS mode of a workload and of each of its ports (Istio's
// pilot/pkg/security/authn/policy_applier.go ComposePeerAuthentication / GetMutualTLSModeForPort and
// pilot/pkg/model/authentication.go AuthenticationPolicies). Precedence, narrowest scope first:
// workload-selector policy in the workload's namespace (oldest wins) > namespace policy (no selector) > mesh
// policy (no selector, root namespace) > PERMISSIVE. UNSET inherits from the next wider scope; port-level modes
// come only from the chosen workload-selector policy and are keyed by the workload's (target) port.
// Pure: reads the snapshot's policy lists, builds no Envoy config.

import type { PeerAuthentication, MtlsMode as ApiMtlsMode } from '../../api/security/peer-authentication.js';
import type { MeshSnapshot } from '../../model/snapshot.js';
import { selectorMatches } from '../../registry/labels.js';

/** Istio's model.MutualTLSMode without MTLSUnknown (undefined stands for it where it can occur). */
export type MtlsMode = 'DISABLE' | 'PERMISSIVE' | 'STRICT';

/** MergedPeerAuthentication: the workload-wide mode and the port-level overrides. */
export interface ComposedPeerAuthentication {
  readonly mode: MtlsMode;
  /** Workload (target) port -> mode; UNSET port settings are already resolved to `mode`. */
  readonly perPort: ReadonlyMap<number, MtlsMode>;
}

type PolicySource = Pick<MeshSnapshot, 'peerAuthentications'>;

const NO_PORTS: ReadonlyMap<number, MtlsMode> = new Map();

/** The default when no policy applies (Istio: PERMISSIVE). */
export const DEFAULT_PEER_AUTHENTICATION: ComposedPeerAuthentication = Object.freeze({ mode: 'PERMISSIVE', perPort: NO_PORTS });

function explicitMode(m: ApiMtlsMode | undefined): MtlsMode | undefined {
  return m === undefined || m === 'UNSET' ? undefined : m;
}

function hasSelector(pa: PeerAuthentication): boolean {
  return Object.keys(pa.spec.selector?.matchLabels ?? {}).length > 0;
}

/** creationTimestamp as a number; a missing one sorts first, like Go's zero time. */
function createdAt(pa: PeerAuthentication): number {
  const t = pa.metadata.creationTimestamp;
  const ms = t === undefined || t === null || t === '' ? Number.NaN : Date.parse(t);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** `cfg.CreationTimestamp.Before(current)`: strictly older replaces, so on a tie the earlier in the list stays. */
function older(candidate: PeerAuthentication, current: PeerAuthentication | undefined): boolean {
  return current === undefined || createdAt(candidate) < createdAt(current);
}

/**
 * ComposePeerAuthentication: the effective policy from the policies that apply to one workload (as
 * peerAuthenticationsForWorkload selects them). Selector policies in the root namespace are ignored.
 */
export function composePeerAuthentication(rootNamespace: string, configs: readonly PeerAuthentication[]): ComposedPeerAuthentication {
  let mesh: PeerAuthentication | undefined;
  let namespace: PeerAuthentication | undefined;
  let workload: PeerAuthentication | undefined;
  for (const pa of configs) {
    const ns = pa.metadata.namespace ?? 'default';
    if (!hasSelector(pa)) {
      if (ns === rootNamespace) {
        if (older(pa, mesh)) mesh = pa;
      } else if (older(pa, namespace)) {
        namespace = pa;
      }
    } else if (ns !== rootNamespace && older(pa, workload)) {
      workload = pa;
    }
  }
  if (mesh === undefined && namespace === undefined && workload === undefined) return DEFAULT_PEER_AUTHENTICATION;
  let mode: MtlsMode = 'PERMISSIVE';
  for (const scope of [mesh, namespace, workload]) mode = explicitMode(scope?.spec.mtls?.mode) ?? mode;
  const perPort = new Map<number, MtlsMode>();
  for (const [port, setting] of Object.entries(workload?.spec.portLevelMtls ?? {})) {
    perPort.set(Number(port), explicitMode(setting.mode) ?? mode);
  }
  return { mode, perPort: perPort.size > 0 ? perPort : NO_PORTS };
}

/** GetMutualTLSModeForPort: the port-level override for a workload port, else the workload-wide mode. */
export function mtlsModeForPort(composed: ComposedPeerAuthentication, port: number): MtlsMode {
  return composed.perPort.get(port) ?? composed.mode;
}

/**
 * GetPeerAuthenticationsForWorkload (sidecars: PolicyMatcherForProxy without services): the policies of the
 * workload's namespace and of the root namespace whose selector is a subset of the workload's labels (no
 * selector selects every workload), each namespace's list oldest first.
 */
export function peerAuthenticationsForWorkload(
  source: PolicySource,
  rootNamespace: string,
  namespace: string,
  labels: Readonly<Record<string, string>>,
): PeerAuthentication[] {
  const namespaces = namespace === rootNamespace ? [namespace] : [namespace, rootNamespace];
  const out: PeerAuthentication[] = [];
  for (const ns of namespaces) {
    for (const pa of source.peerAuthentications(ns)) {
      if (selectorMatches(pa.spec.selector?.matchLabels ?? {}, labels)) out.push(pa);
    }
  }
  return out;
}

/** authn.NewMtlsPolicy: the composed policy for a workload identified by namespace and labels. */
export function peerAuthenticationForWorkload(
  snapshot: Pick<MeshSnapshot, 'peerAuthentications' | 'mesh'>,
  namespace: string,
  labels: Readonly<Record<string, string>>,
): ComposedPeerAuthentication {
  const root = snapshot.mesh.rootNamespace;
  return composePeerAuthentication(root, peerAuthenticationsForWorkload(snapshot, root, namespace, labels));
}

/** The oldest selector-less policy of a namespace: the only one Istio indexes (addPeerAuthentication). */
function namespacePolicy(source: PolicySource, namespace: string): PeerAuthentication | undefined {
  let pick: PeerAuthentication | undefined;
  for (const pa of source.peerAuthentications(namespace)) if (!hasSelector(pa) && older(pa, pick)) pick = pa;
  return pick;
}

/**
 * GetNamespaceMutualTLSMode: the mode a namespace-level policy sets (UNSET inherits the mesh mode, else
 * PERMISSIVE), else the mesh-level policy's mode (UNSET = PERMISSIVE), else undefined (MTLSUnknown): no
 * policy says anything about the namespace. Workload-selector policies are not considered.
 */
export function namespaceMtlsMode(snapshot: Pick<MeshSnapshot, 'peerAuthentications' | 'mesh'>, namespace: string): MtlsMode | undefined {
  const root = snapshot.mesh.rootNamespace;
  const meshPolicy = namespacePolicy(snapshot, root);
  const meshMode = meshPolicy === undefined ? undefined : (explicitMode(meshPolicy.spec.mtls?.mode) ?? 'PERMISSIVE');
  if (namespace === root) return meshMode;
  const nsPolicy = namespacePolicy(snapshot, namespace);
  if (nsPolicy === undefined) return meshMode;
  return explicitMode(nsPolicy.spec.mtls?.mode) ?? meshMode ?? 'PERMISSIVE';
}
