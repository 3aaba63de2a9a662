// A worker's copy of the primary's accepted config: the two methods DataPlane reads from an ADS client
// (`table`, `onUpdate`), filled from wire tables instead of a stream. Every resource goes through the
// same decode -> validate -> compile path as in the ADS client (decodeResource with compileResource), so a
// worker serves from the same immutable compiled objects a single process would. A resource the primary
// accepted cannot fail here unless the two run different code; if one does, it is logged and the entry
// the worker had keeps serving (the last good config, as on a NACK).
// An entry that is the same as before (same version, same bytes: EDS/RDS entries carried over) keeps its
// objects, so nothing downstream sees a change for it.

import { create } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import type { Logger } from '../../lib/logger.js';
import type { ResourceEntry, ResourceTable } from '../xds-client/ads-client.js';
import { decodeResource, PROXY_TYPES, type ProxyTypeUrl, type ResourceByType, type ResourceCompiler } from '../xds-client/validate.js';
import type { WireTable } from './ipc-protocol.js';

type AnyEntry = ResourceEntry<ResourceByType[ProxyTypeUrl]>;

interface Held {
  readonly bytes: Uint8Array;
  readonly entry: AnyEntry;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

export class WorkerTables {
  readonly #tables = new Map<ProxyTypeUrl, ReadonlyMap<string, AnyEntry>>();
  readonly #held = new Map<ProxyTypeUrl, Map<string, Held>>();
  readonly #listeners = new Set<() => void>();

  constructor(
    private readonly compile: ResourceCompiler,
    private readonly logger: Logger,
  ) {
    for (const t of PROXY_TYPES) {
      this.#tables.set(t, new Map());
      this.#held.set(t, new Map());
    }
  }

  table<T extends ProxyTypeUrl>(type: T): ResourceTable<ResourceByType[T]> {
    return this.#tables.get(type) as ResourceTable<ResourceByType[T]>;
  }

  onUpdate(f: () => void): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  /** Replaces the given tables whole, then tells the listeners once. */
  apply(tables: readonly WireTable[]): void {
    for (const w of tables) this.#replace(w);
    for (const f of this.#listeners) f();
  }

  #replace(w: WireTable): void {
    const old = this.#held.get(w.type) as Map<string, Held>;
    const held = new Map<string, Held>();
    const problems: string[] = [];
    w.entries.forEach((e, i) => {
      const prev = old.get(e.name);
      if (prev !== undefined && prev.entry.version === e.version && sameBytes(prev.bytes, e.bytes)) {
        held.set(e.name, prev);
        return;
      }
      const d = decodeResource(w.type, create(AnySchema, { typeUrl: w.type, value: e.bytes }), i, undefined, this.compile);
      if (d.ok) held.set(e.name, { bytes: e.bytes, entry: { message: d.message, compiled: d.compiled, version: e.version, lastUpdated: e.lastUpdated } });
      else {
        problems.push(...d.problems);
        if (prev !== undefined) held.set(e.name, prev);
      }
    });
    if (problems.length > 0) this.logger.error('a resource the primary accepted does not compile in this worker; keeping the last good one', { problems });
    this.#held.set(w.type, held);
    this.#tables.set(w.type, new Map([...held].map(([n, h]) => [n, h.entry])));
  }
}
