// Kind descriptors and the registry that resolves `apiVersion` + `kind` to one. Each kind module exports
// one descriptor made with `defineKind`; `kinds.ts` lists them all explicitly (no import side effects).

import type { z } from './schema.js';
import type { Issue } from '../lib/issue.js';
import type { NameRule } from './names.js';
import type { Resource } from './resource.js';

export interface ValidationContext {
  /** The namespace the resource lives in (already defaulted); undefined for cluster-scoped kinds. */
  readonly namespace: string | undefined;
}

export interface KindDescriptor<Body = Record<string, unknown>> {
  /** API group; '' for the core group (`apiVersion: v1`). */
  readonly group: string;
  readonly kind: string;
  /** Versions served, preferred first. All are the same schema (Istio's versions are aliases). */
  readonly versions: readonly string[];
  readonly namespaced: boolean;
  readonly nameRule: NameRule;
  /** Schema of everything except apiVersion, kind and metadata. Objects are strict. */
  readonly body: z.ZodType<Body>;
  /** Semantic checks in Istio's (or Kubernetes') wording; pure; returns every issue. */
  readonly validate?: (resource: Resource<Body>, ctx: ValidationContext) => Issue[];
}

/** A descriptor with its body type erased, for registries and lists of mixed kinds. */
export interface AnyKind {
  readonly group: string;
  readonly kind: string;
  readonly versions: readonly string[];
  readonly namespaced: boolean;
  readonly nameRule: NameRule;
  readonly body: z.ZodType<unknown>;
  readonly validate?: (resource: never, ctx: ValidationContext) => Issue[];
}

export function defineKind<Body>(d: KindDescriptor<Body>): KindDescriptor<Body> {
  return Object.freeze(d);
}

/** `group/Kind`, the version-free identity of a kind (`networking.istio.io/VirtualService`, `/Service`). */
export function kindId(group: string, kind: string): string {
  return `${group}/${kind}`;
}

export interface KindRegistry {
  readonly all: readonly AnyKind[];
  byGroupKind(group: string, kind: string): AnyKind | undefined;
  /** Kinds with this name in any group (used for error hints and for CLI short names). */
  byKindName(kind: string): readonly AnyKind[];
}

export function createKindRegistry(kinds: readonly AnyKind[]): KindRegistry {
  const all = kinds;
  const map = new Map<string, AnyKind>();
  for (const k of all) {
    const id = kindId(k.group, k.kind);
    if (map.has(id)) throw new Error(`kind ${id} registered twice`);
    map.set(id, k);
  }
  return {
    all,
    byGroupKind: (g, k) => map.get(kindId(g, k)),
    byKindName: (k) => all.filter((d) => d.kind === k),
  };
}

/** True when `r` is of kind `d` (any served version). Narrows the resource's type. */
export function isKind<Body>(r: Resource<unknown>, d: KindDescriptor<Body>): r is Resource<Body> {
  const slash = r.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : r.apiVersion.slice(0, slash);
  return r.kind === d.kind && group === d.group;
}
