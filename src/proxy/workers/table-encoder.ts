// The primary's side of config relay: which of the ADS client's tables changed since they were last sent,
// as wire tables (each accepted resource re-encoded to its proto binary form). Tables are replaced whole
// on every accepted update, so a changed table is one whose object differs from the one last sent. A
// resource carried over unchanged (EDS and RDS keep the entries a response does not repeat) keeps its
// message object, so its bytes are encoded once and reused.

import { toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { ResourceTable } from '../xds-client/ads-client.js';
import { PROXY_TYPES, SCHEMAS, type ProxyTypeUrl, type ResourceByType } from '../xds-client/validate.js';
import type { WireTable } from './ipc-protocol.js';

export interface TableSource {
  table<T extends ProxyTypeUrl>(type: T): ResourceTable<ResourceByType[T]>;
}

export class TableEncoder {
  readonly #sent = new Map<ProxyTypeUrl, object>();
  readonly #bytes = new WeakMap<object, Uint8Array>();

  constructor(private readonly source: TableSource) {}

  /** The tables that changed since the last call (marking them sent). */
  changed(): WireTable[] {
    const out: WireTable[] = [];
    for (const type of PROXY_TYPES) {
      const t = this.source.table(type);
      if (this.#sent.get(type) === t) continue;
      this.#sent.set(type, t);
      out.push(this.#encode(type, t));
    }
    return out;
  }

  /** Every table as it is now (for a worker that just started). */
  all(): WireTable[] {
    return PROXY_TYPES.map((type) => this.#encode(type, this.source.table(type)));
  }

  #encode(type: ProxyTypeUrl, t: ResourceTable<ResourceByType[ProxyTypeUrl]>): WireTable {
    const schema: DescMessage = SCHEMAS[type];
    const entries = [...t].map(([name, e]) => {
      let bytes = this.#bytes.get(e.message);
      if (bytes === undefined) {
        bytes = toBinary(schema, e.message as MessageShape<DescMessage>);
        this.#bytes.set(e.message, bytes);
      }
      return { name, version: e.version, lastUpdated: e.lastUpdated, bytes };
    });
    return { type, entries };
  }
}
