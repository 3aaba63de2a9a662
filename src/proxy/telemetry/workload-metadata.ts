// A workload's telemetry identity (istio/proxy's WorkloadMetadataObject): instance, namespace, workload,
// cluster, canonical service and revision, app and version. The proxy builds its own from the bootstrap
// node's metadata; peers send theirs in Istio's metadata-exchange headers, `x-envoy-peer-metadata-id` (the
// node id) and `x-envoy-peer-metadata` (base64 of a deterministically serialized google.protobuf.Struct with
// NAME, NAMESPACE, WORKLOAD_NAME, CLUSTER_ID and LABELS{service.istio.io/canonical-name,
// service.istio.io/canonical-revision, app, version}, istio/proxy extensions/common/metadata_object.cc
// convertWorkloadMetadataToStruct), so Isthmus proxies and Istio's proxies read each other.
// Canonical names follow Istio's rule (pkg/model labels CanonicalService): the canonical-name label, else
// app.kubernetes.io/name, else app, else the workload name; revision: canonical-revision, else
// app.kubernetes.io/version, else version, else "latest".

import { fromBinary, toBinary, create } from '@bufbuild/protobuf';
import { StructSchema, ValueSchema, type Struct, type Value } from '@bufbuild/protobuf/wkt';

export const PEER_METADATA_HEADER = 'x-envoy-peer-metadata';
export const PEER_METADATA_ID_HEADER = 'x-envoy-peer-metadata-id';

export const CANONICAL_NAME_LABEL = 'service.istio.io/canonical-name';
export const CANONICAL_REVISION_LABEL = 'service.istio.io/canonical-revision';

export interface WorkloadMetadata {
  readonly instanceName: string;
  readonly namespace: string;
  readonly workloadName: string;
  readonly clusterId: string;
  readonly canonicalName: string;
  readonly canonicalRevision: string;
  readonly appName: string;
  readonly appVersion: string;
}

type Labels = Readonly<Record<string, string>>;

function canonicalName(labels: Labels, workload: string): string {
  return labels[CANONICAL_NAME_LABEL] || labels['app.kubernetes.io/name'] || labels['app'] || workload;
}

function canonicalRevision(labels: Labels): string {
  return labels[CANONICAL_REVISION_LABEL] || labels['app.kubernetes.io/version'] || labels['version'] || 'latest';
}

function stringsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === null || typeof v !== 'object') return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/**
 * The proxy's own identity from its node: metadata NAME (else the pod name in a `sidecar~ip~pod.ns~...` id),
 * NAMESPACE, WORKLOAD_NAME, CLUSTER_ID (Istio's default cluster is "Kubernetes") and LABELS.
 */
export function workloadFromNode(nodeId: string, metadata: Readonly<Record<string, unknown>> | undefined): WorkloadMetadata {
  const md = metadata ?? {};
  const str = (k: string): string => (typeof md[k] === 'string' ? (md[k] as string) : '');
  const labels = stringsOf(md['LABELS']);
  const parts = nodeId.split('~');
  const podDotNs = parts.length === 4 ? (parts[2] ?? '') : '';
  const dot = podDotNs.indexOf('.');
  const instanceName = str('NAME') || (dot > 0 ? podDotNs.slice(0, dot) : podDotNs) || nodeId;
  const namespace = str('NAMESPACE') || (dot > 0 ? podDotNs.slice(dot + 1) : '');
  const workloadName = str('WORKLOAD_NAME') || instanceName;
  return {
    instanceName,
    namespace,
    workloadName,
    clusterId: str('CLUSTER_ID') || 'Kubernetes',
    canonicalName: canonicalName(labels, workloadName),
    canonicalRevision: canonicalRevision(labels),
    appName: labels['app'] || labels['app.kubernetes.io/name'] || '',
    appVersion: labels['version'] || labels['app.kubernetes.io/version'] || '',
  };
}

function stringValue(s: string): Value {
  return create(ValueSchema, { kind: { case: 'stringValue', value: s } });
}

/** The Struct Istio's proxies send (empty fields left out). */
export function workloadToStruct(w: WorkloadMetadata): Struct {
  const fields: Record<string, Value> = {};
  if (w.instanceName !== '') fields['NAME'] = stringValue(w.instanceName);
  if (w.namespace !== '') fields['NAMESPACE'] = stringValue(w.namespace);
  if (w.workloadName !== '') fields['WORKLOAD_NAME'] = stringValue(w.workloadName);
  if (w.clusterId !== '') fields['CLUSTER_ID'] = stringValue(w.clusterId);
  const labels: Record<string, Value> = {};
  if (w.canonicalName !== '') labels[CANONICAL_NAME_LABEL] = stringValue(w.canonicalName);
  if (w.canonicalRevision !== '') labels[CANONICAL_REVISION_LABEL] = stringValue(w.canonicalRevision);
  if (w.appName !== '') labels['app'] = stringValue(w.appName);
  if (w.appVersion !== '') labels['version'] = stringValue(w.appVersion);
  fields['LABELS'] = create(ValueSchema, { kind: { case: 'structValue', value: create(StructSchema, { fields: labels }) } });
  return create(StructSchema, { fields });
}

/** The Struct with its map keys in sorted order, nested structs too: what a deterministic serializer writes. */
export function sortedStruct(st: Struct): Struct {
  const out: Record<string, Value> = {};
  for (const k of Object.keys(st.fields).sort()) {
    const v = st.fields[k] as Value;
    out[k] = v.kind.case === 'structValue' ? create(ValueSchema, { kind: { case: 'structValue', value: sortedStruct(v.kind.value) } }) : v;
  }
  return create(StructSchema, { fields: out });
}

/** The `x-envoy-peer-metadata` value for a workload. Map keys are written sorted, as a deterministic serializer does. */
export function encodePeerMetadata(w: WorkloadMetadata): string {
  return Buffer.from(toBinary(StructSchema, sortedStruct(workloadToStruct(w)))).toString('base64');
}

function fieldString(st: Struct | undefined, k: string): string {
  const v = st?.fields[k];
  return v?.kind.case === 'stringValue' ? v.kind.value : '';
}

/** Reads a peer's header value; undefined when it is not base64 of a Struct. */
export function decodePeerMetadata(value: string): WorkloadMetadata | undefined {
  let st: Struct;
  try {
    st = fromBinary(StructSchema, Buffer.from(value, 'base64'));
  } catch {
    return undefined;
  }
  return workloadFromStruct(st);
}

/** A peer's metadata Struct (istio/proxy convertStructToWorkloadMetadata); undefined when it names no workload. */
export function workloadFromStruct(st: Struct): WorkloadMetadata | undefined {
  const lv = st.fields['LABELS'];
  const labelsStruct = lv?.kind.case === 'structValue' ? lv.kind.value : undefined;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(labelsStruct?.fields ?? {})) if (v.kind.case === 'stringValue') labels[k] = v.kind.value;
  const workloadName = fieldString(st, 'WORKLOAD_NAME');
  const namespace = fieldString(st, 'NAMESPACE');
  if (workloadName === '' && namespace === '' && Object.keys(labels).length === 0) return undefined;
  return {
    instanceName: fieldString(st, 'NAME'),
    namespace,
    workloadName,
    clusterId: fieldString(st, 'CLUSTER_ID'),
    canonicalName: canonicalName(labels, workloadName),
    canonicalRevision: canonicalRevision(labels),
    appName: labels['app'] || labels['app.kubernetes.io/name'] || '',
    appVersion: labels['version'] || labels['app.kubernetes.io/version'] || '',
  };
}

const MAX_CACHE = 500;

/** Decoded peers by header value (Istio keeps 500 per worker thread and evicts a quarter when full). */
export class PeerMetadataCache {
  readonly #m = new Map<string, WorkloadMetadata | null>();

  get(value: string): WorkloadMetadata | undefined {
    let w = this.#m.get(value);
    if (w === undefined) {
      w = decodePeerMetadata(value) ?? null;
      if (this.#m.size >= MAX_CACHE) {
        let n = MAX_CACHE / 4;
        for (const k of this.#m.keys()) {
          if (n-- <= 0) break;
          this.#m.delete(k);
        }
      }
      this.#m.set(value, w);
    }
    return w ?? undefined;
  }
}
