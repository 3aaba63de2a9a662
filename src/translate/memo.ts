// Sharing translation results between proxies and across snapshots (Istio's XdsCache): a cluster, load
// assignment or route configuration whose inputs are the same for two proxies is built once, and survives
// a rebuild of the snapshot when none of its inputs changed. Translation stays a pure function:
//  - a result is looked up under a key that must name EVERY input its builder reads other than through
//    the snapshot object: proxy fields, and values the caller derived from the snapshot (a Service, a
//    DestinationRuleView from the ProxyContext) by identity(); Istio's design notes warn that a missing key
//    input silently serves the wrong config;
//  - what the builder reads from the snapshot itself (ctx.snapshot.endpoints(...), .mesh, ...) is recorded
//    (model/snapshot-reads.ts). A result built for an earlier snapshot is reused for a later one only if
//    the later snapshot answers every recorded read the same way; memoized results a builder reuses
//    bring their reads along, so an outer result depends on everything inside it.
// Cached messages are never mutated after they are built. Each snapshot has its own table, which starts
// from the table of the snapshot before it (the previously created table); older tables are let go.

import type { MeshSnapshot } from '../model/snapshot.js';
import { isTracked, observeReads, sameAnswer, type SnapshotRead } from '../model/snapshot-reads.js';

/**
 * What a computation read from its snapshot: its own reads, and the read sets of the memoized results it
 * reused (shared, so each is checked once per snapshot). Undefined when it cannot be reused with another
 * snapshot.
 */
export interface ReadSet {
  readonly own: readonly SnapshotRead[];
  readonly inner: readonly ReadSet[];
}
export type Reads = ReadSet | undefined;

interface Entry {
  readonly value: unknown;
  readonly reads: Reads;
}

interface Table {
  readonly entries: Map<string, Entry>;
  /** The table of the snapshot built before this one, whose entries may be reused after checking. */
  previous: Table | undefined;
  /** Read sets checked against this table's snapshot, and whether they hold. */
  readonly verdicts: WeakMap<ReadSet, boolean>;
}

interface Frame {
  readonly snapshot: MeshSnapshot;
  readonly own: SnapshotRead[];
  /** Property reads by member: a property of one snapshot always reads the same. */
  readonly properties: Set<PropertyKey>;
  readonly inner: Set<ReadSet>;
  portable: boolean;
}

const tables = new WeakMap<MeshSnapshot, Table>();
let newest: WeakRef<Table> | undefined;
const frames: Frame[] = [];
const ids = new WeakMap<object, string>();
let nextId = 0;

/** A stable identity for an immutable object (a DestinationRuleView, a Service) within this process. */
export function identity(o: object | undefined): string {
  if (o === undefined) return '-';
  let id = ids.get(o);
  if (id === undefined) {
    id = String(++nextId);
    ids.set(o, id);
  }
  return id;
}

function tableOf(snapshot: MeshSnapshot): Table {
  let t = tables.get(snapshot);
  if (t === undefined) {
    let previous: Table | undefined;
    if (isTracked(snapshot)) {
      previous = newest?.deref();
      // Only one generation back: the previous table no longer needs its own predecessor.
      if (previous !== undefined) previous.previous = undefined;
    }
    t = { entries: new Map(), previous, verdicts: new WeakMap() };
    tables.set(snapshot, t);
    if (isTracked(snapshot)) newest = new WeakRef(t);
  }
  return t;
}

function note(snapshot: object, read: SnapshotRead): void {
  const f = frames[frames.length - 1];
  if (f === undefined) return;
  if (snapshot !== f.snapshot) f.portable = false;
  else if (read.args !== undefined) f.own.push(read);
  else if (!f.properties.has(read.member)) {
    f.properties.add(read.member);
    f.own.push(read);
  }
}

/** Adds what a reused result read to the computation running around it. */
function inherit(reads: Reads): void {
  const f = frames[frames.length - 1];
  if (f === undefined) return;
  if (reads === undefined) f.portable = false;
  else f.inner.add(reads);
}

/** Runs `fn` in a new frame: what it reads goes to the frame, not to the computation around it. */
function framed<T>(snapshot: MeshSnapshot, fn: () => T): { value: T; reads: Reads } {
  const frame: Frame = { snapshot, own: [], properties: new Set(), inner: new Set(), portable: isTracked(snapshot) };
  frames.push(frame);
  let value: T;
  try {
    value = observeReads(note, fn);
  } finally {
    frames.pop();
  }
  return { value, reads: frame.portable ? { own: frame.own, inner: [...frame.inner] } : undefined };
}

function holds(table: Table, snapshot: MeshSnapshot, set: ReadSet): boolean {
  let ok = table.verdicts.get(set);
  if (ok === undefined) {
    // Shared read sets first: their verdicts are cached, so a change is usually found without replaying.
    ok = set.inner.every((s) => holds(table, snapshot, s)) && set.own.every((r) => sameAnswer(snapshot, r));
    table.verdicts.set(set, ok);
  }
  return ok;
}

/**
 * Runs `fn`, recording what it reads from `snapshot` (including the reads of memoized results it reuses).
 * The reads are undefined when the result must not be reused with another snapshot (an untracked
 * snapshot, or a read of another snapshot).
 */
export function recordReads<T>(snapshot: MeshSnapshot, fn: () => T): { value: T; reads: Reads } {
  const r = framed(snapshot, fn);
  inherit(r.reads);
  return r;
}

/** Whether `snapshot` answers every read the same way, so a result computed with those reads still holds. */
export function readsHold(snapshot: MeshSnapshot, reads: Reads): boolean {
  return reads !== undefined && isTracked(snapshot) && holds(tableOf(snapshot), snapshot, reads);
}

/** The result of `build` for (`snapshot`, `key`), building it on first use or reusing the previous snapshot's. */
export function memo<T>(snapshot: MeshSnapshot, key: string, build: () => T): T {
  const table = tableOf(snapshot);
  let e = table.entries.get(key);
  if (e === undefined) {
    const before = table.previous?.entries.get(key);
    e = before?.reads !== undefined && holds(table, snapshot, before.reads) ? before : framed(snapshot, build);
    table.entries.set(key, e);
  }
  inherit(e.reads);
  return e.value as T;
}
