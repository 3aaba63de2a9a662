// `isthmus apply -f` / `delete -f` on a running control plane: the monitoring port's /v1/config.
// POST applies YAML documents, DELETE removes them; `?dryRun=true` only validates; `?ifAbsent=true` leaves
// existing objects alone (`isthmus run` adds a Service only when none exists); `?file=` names the source
// in messages. Applied objects form one config source, named so that it sorts before the folder's
// files: an applied object takes the place of the folder's object of the same name while the control plane
// runs (as `kubectl apply` changes the live object), and deleting it brings the folder's version back.
// Objects only the folder defines cannot be deleted here; the answer names the file to edit.
// Every document is validated first, with the same messages as `isthmus validate`; when any is invalid
// nothing changes (400, one line per problem). Success answers kubectl's lines:
// `virtualservice.networking.istio.io/reviews created|configured|unchanged|deleted`.
// GET lists what the store holds (the winning version of each object, folder's or applied) as JSON, each
// object with the `origin` it was read from; `?kind=` (`VirtualService`, or `Gateway.networking.istio.io`),
// `?namespace=` and `?name=` filter. A Secret's `data` and `stringData` are left out: the monitoring port
// is for looking at config, not at keys.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDeepStrictEqual as equals } from 'node:util';
import type { ResourceEntry } from '../api/entry.js';
import type { KindRegistry } from '../api/kind.js';
import { loadText } from '../api/load.js';
import { entryKey, type ConfigStore } from '../config/store.js';
import { validateDocuments } from '../config/validate-documents.js';
import { formatReportRow, rowsOf } from './validate.js';

/** The applied objects' source name: '!' sorts before any path, so applied objects win conflicts. */
export const APPLIED_SOURCE = '!applied';

/** One object of `GET /v1/config`: the resource as stored, plus where it was read from. */
export interface ConfigObjectJson {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ResourceEntry['resource']['metadata'];
  readonly spec?: unknown;
  readonly origin: { readonly file: string; readonly line: number };
  readonly [field: string]: unknown;
}

export interface ConfigListFilter {
  /** Kind name (`VirtualService`), or `Kind.group` (`Gateway.networking.istio.io`); compared without case. */
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** The JSON form of a stored entry; a Secret's payload is dropped. */
export function configObjectJson(e: ResourceEntry): ConfigObjectJson {
  const fields: Record<string, unknown> = { ...e.resource };
  if (e.kind.group === '' && e.kind.kind === 'Secret') {
    delete fields['data'];
    delete fields['stringData'];
  }
  return { ...fields, apiVersion: e.resource.apiVersion, kind: e.resource.kind, metadata: e.resource.metadata, origin: { file: e.origin.file, line: e.origin.line } };
}

export interface ConfigApiResult {
  readonly status: number;
  readonly lines: readonly string[];
}

function kubectlName(e: ResourceEntry): string {
  const group = e.kind.group;
  return `${e.kind.kind.toLowerCase()}${group === '' ? '' : `.${group}`}/${e.resource.metadata.name}`;
}

export class ConfigApi {
  constructor(
    private readonly store: ConfigStore,
    private readonly registry: KindRegistry,
  ) {}

  #parse(text: string, file: string): { ok: true; entries: ResourceEntry[] } | { ok: false; lines: string[] } {
    const loaded = loadText(text, file);
    const v = validateDocuments(loaded.documents, this.registry, { defaultNamespace: 'default' }, loaded.problems);
    if (v.invalid.length > 0) return { ok: false, lines: v.invalid.flatMap((e) => rowsOf(e).map(formatReportRow)) };
    if (v.entries.length === 0) return { ok: false, lines: [`${file}: no objects in the input`] };
    return { ok: true, entries: [...v.entries] };
  }

  /** Applies every document; with `ifAbsent`, objects that exist already are left as they are (`... exists`). */
  apply(text: string, file: string, dryRun: boolean, ifAbsent = false): ConfigApiResult {
    const parsed = this.#parse(text, file);
    if (!parsed.ok) return { status: 400, lines: parsed.lines };
    const applied = new Map(this.store.entriesOf(APPLIED_SOURCE).map((e) => [entryKey(e), e]));
    const lines: string[] = [];
    for (const e of parsed.entries) {
      const key = entryKey(e);
      const before = this.store.get(key);
      if (ifAbsent && before !== undefined) {
        lines.push(`${kubectlName(e)} exists`);
        continue;
      }
      const verb = before === undefined ? 'created' : equals(before.resource, e.resource) ? 'unchanged' : 'configured';
      applied.set(key, e);
      lines.push(`${kubectlName(e)} ${verb}${dryRun ? ' (dry run)' : ''}`);
    }
    if (!dryRun) this.store.replaceSource(APPLIED_SOURCE, [...applied.values()]);
    return { status: 200, lines };
  }

  delete(text: string, file: string, dryRun: boolean): ConfigApiResult {
    const parsed = this.#parse(text, file);
    if (!parsed.ok) return { status: 400, lines: parsed.lines };
    const applied = new Map(this.store.entriesOf(APPLIED_SOURCE).map((e) => [entryKey(e), e]));
    const lines: string[] = [];
    const problems: string[] = [];
    for (const e of parsed.entries) {
      const key = entryKey(e);
      const name = `${e.kind.kind} ${e.resource.metadata.namespace ?? 'default'}/${e.resource.metadata.name}`;
      if (applied.delete(key)) {
        const folder = this.store.sources().filter((s) => s !== APPLIED_SOURCE).find((s) => this.store.entriesOf(s).some((x) => entryKey(x) === key));
        lines.push(`${kubectlName(e)} deleted${folder !== undefined ? ` (the folder's version in ${folder} applies again)` : ''}${dryRun ? ' (dry run)' : ''}`);
        continue;
      }
      const owner = this.store.get(key);
      if (owner === undefined) problems.push(`${name}: not found`);
      else problems.push(`${name}: defined in ${owner.origin.file}; remove it from that file (changes there apply live)`);
    }
    if (problems.length > 0) return { status: 404, lines: problems };
    if (!dryRun) this.store.replaceSource(APPLIED_SOURCE, [...applied.values()]);
    return { status: 200, lines };
  }

  /** Every object in the store (sorted by group/Kind/namespace/name), optionally filtered. */
  list(filter: ConfigListFilter = {}): ConfigObjectJson[] {
    const wanted = filter.kind?.toLowerCase();
    const dot = wanted?.indexOf('.') ?? -1;
    const kind = dot >= 0 ? wanted?.slice(0, dot) : wanted;
    const group = dot >= 0 ? wanted?.slice(dot + 1) : undefined;
    return this.store
      .list()
      .filter(
        (e) =>
          (kind === undefined || e.kind.kind.toLowerCase() === kind) &&
          (group === undefined || e.kind.group.toLowerCase() === group) &&
          (filter.namespace === undefined || (e.resource.metadata.namespace ?? '') === filter.namespace) &&
          (filter.name === undefined || e.resource.metadata.name === filter.name),
      )
      .map(configObjectJson);
  }

  /** Serves /v1/config; false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/v1/config') return false;
    if (req.method === 'GET') {
      const q = (k: string): string | undefined => url.searchParams.get(k) ?? undefined;
      const kind = q('kind');
      const namespace = q('namespace');
      const name = q('name');
      const body = this.list({ ...(kind !== undefined ? { kind } : {}), ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}) });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2) + '\n');
      return true;
    }
    if (req.method !== 'POST' && req.method !== 'DELETE') {
      res.writeHead(405, { allow: 'GET, POST, DELETE', 'content-type': 'text/plain' }).end('use GET to list, POST to apply or DELETE to delete YAML documents\n');
      return true;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const file = url.searchParams.get('file') ?? 'request';
      const dryRun = url.searchParams.get('dryRun') === 'true';
      const r = req.method === 'POST' ? this.apply(text, file, dryRun, url.searchParams.get('ifAbsent') === 'true') : this.delete(text, file, dryRun);
      res.writeHead(r.status, { 'content-type': 'text/plain; charset=utf-8' }).end(r.lines.join('\n') + '\n');
    });
    return true;
  }
}
