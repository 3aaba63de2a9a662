// The shape every loaded object has: apiVersion, kind, metadata, plus the kind's own body.
// A Resource is plain data (JSON-serialisable, frozen after validation); where it came from is kept
// beside it in `Origin`, not inside it.

import { z, obj, stringMap } from './schema.js';

export const ObjectMetaSchema = obj({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.union([z.string(), z.null()]).optional(),
  deletionTimestamp: z.string().optional(),
  deletionGracePeriodSeconds: z.number().int().optional(),
  selfLink: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(z.record(z.string(), z.unknown())).optional(),
  managedFields: z.array(z.record(z.string(), z.unknown())).optional(),
});

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string | null;
}

export interface ResourceHeader {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
}

/** A validated object of some kind. `Body` is the kind's fields besides the header (e.g. `{spec, status?}`). */
export type Resource<Body = Record<string, unknown>> = ResourceHeader & Body;

/** Where a resource was read from: file (or `-` for stdin, `kube` for the API server) and 1-based line. */
export interface Origin {
  readonly file: string;
  readonly line: number;
}

/** `namespace/name`, or `name` for cluster-scoped kinds. */
export function resourceName(r: ResourceHeader): string {
  return r.metadata.namespace === undefined ? r.metadata.name : `${r.metadata.namespace}/${r.metadata.name}`;
}

/** The store's key: `group/Kind/namespace/name` with the version dropped (v1alpha3 and v1 are one object). */
export function resourceKey(group: string, kind: string, namespace: string | undefined, name: string): string {
  return `${group}/${kind}/${namespace ?? ''}/${name}`;
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

export function versionOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
}
