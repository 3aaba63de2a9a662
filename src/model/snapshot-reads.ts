// What a computation read from a MeshSnapshot, so that its result can be reused with a later snapshot that
// answers every one of those reads the same way. This is how cached translation survives a rebuild: Istio
// clears its XdsCache by the configs a push changed (ConfigsUpdated) and trusts each cache key to name
// every input; here the reads themselves are the dependency list, so no key can forget a snapshot input.
//
// buildMeshSnapshot wraps every snapshot it builds with trackReads(); while an observer is installed
// (observeReads), each property read and method call on a tracked snapshot is reported with its arguments
// and result. sameAnswer() replays a read on another snapshot. A snapshot not built there (a test fake) is
// not tracked, and callers must never reuse anything computed from it.
// Answers compare by identity, arrays and plain objects (ServiceTarget) one level deep: the snapshot
// builder reuses unchanged Service, Endpoint and view objects across rebuilds (structural sharing), so an
// unchanged answer is made of the same objects even when its array is new.

/** One read: a property (args undefined) or a method call, with what it returned. */
export interface SnapshotRead {
  readonly member: PropertyKey;
  readonly args: readonly unknown[] | undefined;
  readonly result: unknown;
}

export type ReadObserver = (snapshot: object, read: SnapshotRead) => void;

let observer: ReadObserver | undefined;
/** Tracked snapshot (the Proxy handed out) -> the object behind it. */
const targets = new WeakMap<object, object>();

/** Wraps `snapshot` so that reads are reported to the installed observer. */
export function trackReads<T extends object>(snapshot: T): T {
  const methods = new Map<PropertyKey, (...args: unknown[]) => unknown>();
  const tracked: T = new Proxy(snapshot, {
    get(target, member) {
      const value: unknown = Reflect.get(target, member, target);
      if (typeof value !== 'function') {
        observer?.(tracked, { member, args: undefined, result: value });
        return value;
      }
      let m = methods.get(member);
      if (m === undefined) {
        const fn = value as (...args: unknown[]) => unknown;
        m = (...args: unknown[]): unknown => {
          const result = fn.apply(target, args);
          observer?.(tracked, { member, args, result });
          return result;
        };
        methods.set(member, m);
      }
      return m;
    },
  });
  targets.set(tracked, snapshot);
  return tracked;
}

export function isTracked(snapshot: object): boolean {
  return targets.has(snapshot);
}

/** Runs `fn` with `obs` receiving every read of a tracked snapshot (nested calls restore the outer observer). */
export function observeReads<R>(obs: ReadObserver, fn: () => R): R {
  const outer = observer;
  observer = obs;
  try {
    return fn();
  } finally {
    observer = outer;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Same objects (or primitives); arrays and plain objects element by element, `depth` levels down. */
function sameValue(a: unknown, b: unknown, depth: number): boolean {
  if (a === b) return true;
  if (depth === 0) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i], depth - 1)) return false;
    return true;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!Object.hasOwn(b, k) || !sameValue(a[k], b[k], depth - 1)) return false;
    return true;
  }
  return false;
}

/** Whether the tracked `snapshot` answers `read` with the same result. False for an untracked snapshot. */
export function sameAnswer(snapshot: object, read: SnapshotRead): boolean {
  const target = targets.get(snapshot);
  if (target === undefined) return false;
  const value: unknown = Reflect.get(target, read.member, target);
  if (read.args === undefined) return typeof value !== 'function' && sameValue(value, read.result, 2);
  if (typeof value !== 'function') return false;
  return sameValue(Reflect.apply(value as (...args: unknown[]) => unknown, target, read.args), read.result, 2);
}
