// One proxy's generated xDS state for one snapshot: translation output packed into Any, each resource
// with a content version (hash of its encoding), per type URL. Generation is cached per (snapshot,
// proxy) object pair, so a push, a late subscription and a debug dump never translate twice; the cache
// lets go of a snapshot or a proxy as soon as nothing else holds it (Istio's XdsCache keyed by push
// context, reduced to the one input that matters here: the snapshot is immutable, translation is pure).
// A proxy's translation records what it read from the snapshot (translate/memo.ts recordReads); when a
// new snapshot answers all of it the same way, translating again would give the same output, so the last
// generation is reused (Istio pushes only to the proxies a change affects).

import type { JsonValue } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { Logger } from '../lib/logger.js';
import type { Issue } from '../lib/issue.js';
import type { MeshSnapshot } from '../model/snapshot.js';
import type { Proxy } from '../model/proxy.js';
import type { ProxyResources } from '../translate/resources.js';
import { contentVersion, pack, toDumpJson } from '../xds/codec.js';
import { readsHold, recordReads, type Reads } from '../translate/memo.js';
import { toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../xds/gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { SecretSchema } from '../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE, shortTypeName, type XdsTypeUrl } from '../xds/type-urls.js';

export type Translate = (snapshot: MeshSnapshot, proxy: Proxy) => ProxyResources;

export interface GeneratedResource {
  readonly name: string;
  /** Content version: a hash of the encoded resource. Equal versions mean equal bytes. */
  readonly version: string;
  readonly any: Any;
  /** proto3 JSON of the resource, as Envoy's config_dump shows it. */
  dump(): JsonValue;
  /** The Any encoded, as it sits in a response's resources (computed once). */
  wire(): Uint8Array;
}

/** Resources of one type by name, in name order. */
export type TypeResources = ReadonlyMap<string, GeneratedResource>;

export interface ProxyGeneration {
  readonly snapshotVersion: string;
  /** Config translation had to skip for this proxy (resource, field, reason), from ProxyResources.issues. */
  readonly issues: readonly Issue[];
  /** Every served type is present (possibly empty). */
  readonly byType: ReadonlyMap<XdsTypeUrl, TypeResources>;
}

export type GenerationResult = { readonly ok: true; readonly value: ProxyGeneration } | { readonly ok: false; readonly error: string };

/**
 * Packed form of each translated message. Translation shares unchanged messages between proxies of a
 * snapshot (translate/memo.ts) and never mutates them once built, so each is encoded and hashed once.
 */
const packed = new WeakMap<object, GeneratedResource>();

function packAll<D extends DescMessage>(
  typeUrl: XdsTypeUrl,
  schema: D,
  items: readonly MessageShape<D>[],
  nameOf: (m: MessageShape<D>) => string,
  warn: (msg: string, fields: Record<string, unknown>) => void,
): TypeResources {
  const out = new Map<string, GeneratedResource>();
  const sorted = [...items].sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
  for (const m of sorted) {
    const name = nameOf(m);
    if (out.has(name)) {
      warn('translation produced two resources with one name; the first is served', { type: shortTypeName(typeUrl), name });
      continue;
    }
    let r = packed.get(m);
    if (r === undefined) {
      const any = pack(schema, m);
      let wire: Uint8Array | undefined;
      r = { name, version: contentVersion(any.value), any, dump: () => toDumpJson(schema, m), wire: () => (wire ??= toBinary(AnySchema, any)) };
      packed.set(m, r);
    }
    out.set(name, r);
  }
  return out;
}

/** Packs translation output; resources are keyed by their xDS name (ClusterLoadAssignment: cluster_name). */
export function packResources(snapshotVersion: string, r: ProxyResources, logger?: Logger): ProxyGeneration {
  const warn = (msg: string, fields: Record<string, unknown>): void => logger?.warn(msg, fields);
  return {
    snapshotVersion,
    issues: r.issues,
    byType: new Map<XdsTypeUrl, TypeResources>([
      [CLUSTER_TYPE, packAll(CLUSTER_TYPE, ClusterSchema, r.clusters, (m) => m.name, warn)],
      [ENDPOINT_TYPE, packAll(ENDPOINT_TYPE, ClusterLoadAssignmentSchema, r.endpoints, (m) => m.clusterName, warn)],
      [LISTENER_TYPE, packAll(LISTENER_TYPE, ListenerSchema, r.listeners, (m) => m.name, warn)],
      [ROUTE_TYPE, packAll(ROUTE_TYPE, RouteConfigurationSchema, r.routes, (m) => m.name, warn)],
      [SECRET_TYPE, packAll(SECRET_TYPE, SecretSchema, r.secrets, (m) => m.name, warn)],
    ]),
  };
}

/**
 * Translates and packs at most once per (snapshot, proxy). A translation that throws is cached as a
 * failure too (the same inputs would fail again); the caller keeps serving the proxy's last good config.
 */
export class GenerationCache {
  private readonly cache = new WeakMap<MeshSnapshot, WeakMap<Proxy, GenerationResult>>();
  /** Each proxy's last successful generation and what its translation read from the snapshot. */
  private readonly last = new WeakMap<Proxy, { readonly generation: ProxyGeneration; readonly reads: Reads }>();
  private translations = 0;
  private reuses = 0;

  constructor(
    private readonly translate: Translate,
    private readonly logger?: Logger,
  ) {}

  /** How many times translate has been called (for tests and debug output). */
  get translateCount(): number {
    return this.translations;
  }

  /** How many times a proxy's last generation was reused for a new snapshot instead of translating. */
  get reuseCount(): number {
    return this.reuses;
  }

  get(snapshot: MeshSnapshot, proxy: Proxy): GenerationResult {
    let perProxy = this.cache.get(snapshot);
    if (perProxy === undefined) {
      perProxy = new WeakMap();
      this.cache.set(snapshot, perProxy);
    }
    const hit = perProxy.get(proxy);
    if (hit !== undefined) return hit;
    let result: GenerationResult;
    const last = this.last.get(proxy);
    if (last !== undefined && readsHold(snapshot, last.reads)) {
      this.reuses++;
      result = { ok: true, value: { snapshotVersion: snapshot.version, issues: last.generation.issues, byType: last.generation.byType } };
      perProxy.set(proxy, result);
      return result;
    }
    this.translations++;
    try {
      const { value, reads } = recordReads(snapshot, () => this.translate(snapshot, proxy));
      result = { ok: true, value: packResources(snapshot.version, value, this.logger) };
      this.last.set(proxy, { generation: result.value, reads });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      this.logger?.error('translation failed; the proxy keeps its last pushed config', { proxy: proxy.id, snapshot: snapshot.version, error });
      result = { ok: false, error };
    }
    perProxy.set(proxy, result);
    return result;
  }
}

/** A per-type version for SotW `version_info`: a hash over the (name, version) pairs of a response. */
export function typeVersion(versions: ReadonlyMap<string, string>): string {
  const lines = [...versions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([n, v]) => `${n}\u0000${v}\n`);
  return contentVersion(new TextEncoder().encode(lines.join('')));
}

/** The resources a subscription selects from one type's generated set, in name order. */
export function selectResources(resources: TypeResources | undefined, covers: (name: string) => boolean): Map<string, GeneratedResource> {
  const out = new Map<string, GeneratedResource>();
  if (resources === undefined) return out;
  for (const [name, r] of resources) if (covers(name)) out.set(name, r);
  return out;
}

export function versionsOf(resources: ReadonlyMap<string, GeneratedResource>): Map<string, string> {
  return new Map([...resources].map(([n, r]) => [n, r.version]));
}

export function sameVersions(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
