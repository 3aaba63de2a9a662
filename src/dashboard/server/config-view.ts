// The dashboard's Istio config browser data: every resource the control plane holds, with its validation
// issues and the analyzer messages `isthmus analyze` would print about it (same analyzers, same IST codes,
// run over the live store rather than files), and its YAML. Documents of the config folder that fail
// validation are listed too (the control plane keeps serving their last good version, if any): they are
// what a user most needs to see. A Secret's data is left out, as on the monitoring port's /v1/config.

import { stringify } from 'yaml';
import { runAnalyzers, type Diagnostic } from '../../analyze/index.js';
import type { InvalidEntry, ResourceEntry } from '../../api/entry.js';
import { groupOf } from '../../api/resource.js';
import type { Issue } from '../../lib/issue.js';
import type { ConfigResource, ConfigResponse, ResourceMessage } from '../shared/api-types.js';

/** A resource's id in GET /api/config and its page (/config/<id>): `<group or core>/<Kind>/<namespace>/<name>`. */
function resourceId(group: string, kind: string, namespace: string, name: string): string {
  return `${group === '' ? 'core' : group}/${kind}/${namespace}/${name}`;
}

/** Diagnostics match resources by kind, namespace and name, as istioctl names them. */
function diagnosticKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

function issueMessage(i: Issue): ResourceMessage {
  return { code: 'validation', name: 'Validation', level: i.severity === 'error' ? 'Error' : 'Warning', message: i.message, ...(i.path !== '' ? { where: i.path } : {}) };
}

function diagnosticMessage(d: Diagnostic): ResourceMessage {
  const where = d.origin === undefined ? undefined : d.origin.line > 0 ? `${d.origin.file}:${d.origin.line}` : d.origin.file;
  return { code: d.code, name: d.name, level: d.level, message: d.message, ...(where !== undefined ? { where } : {}), documentationUrl: d.documentationUrl };
}

function yamlOf(e: ResourceEntry): string {
  const fields: Record<string, unknown> = { ...e.resource };
  if (e.kind.group === '' && e.kind.kind === 'Secret') {
    delete fields['data'];
    delete fields['stringData'];
  }
  return stringify(fields);
}

/** A stored resource's id and namespace ('' for cluster-scoped kinds). */
export function entryId(e: ResourceEntry): { id: string; namespace: string } {
  const namespace = e.kind.namespaced ? (e.resource.metadata.namespace ?? '') : '';
  return { id: resourceId(e.kind.group, e.kind.kind, namespace, e.resource.metadata.name), namespace };
}

const LEVEL_ORDER: Readonly<Record<string, number>> = { Error: 0, Warning: 1, Info: 2 };

/** The config list: stored entries and invalid documents, each with its messages; sorted by kind, namespace, name. */
export function buildConfigView(entries: readonly ResourceEntry[], invalid: readonly InvalidEntry[]): ConfigResponse {
  const diagnostics = runAnalyzers(entries, invalid);
  const byResource = new Map<string, ResourceMessage[]>();
  const unattached: ResourceMessage[] = [];
  for (const d of diagnostics) {
    if (d.resource === undefined) {
      unattached.push(diagnosticMessage(d));
      continue;
    }
    const key = diagnosticKey(d.resource.kind, d.resource.namespace ?? '', d.resource.name);
    let list = byResource.get(key);
    if (list === undefined) byResource.set(key, (list = []));
    list.push(diagnosticMessage(d));
  }
  const taken = new Set<string>();
  const take = (kind: string, namespace: string, name: string): ResourceMessage[] => {
    const key = diagnosticKey(kind, namespace, name);
    if (taken.has(key)) return [];
    taken.add(key);
    return byResource.get(key) ?? [];
  };

  const out = new Map<string, ConfigResource>();
  for (const e of entries) {
    const { id, namespace } = entryId(e);
    const m = e.resource.metadata;
    out.set(id, {
      id,
      apiVersion: e.resource.apiVersion,
      kind: e.kind.kind,
      namespace,
      name: m.name,
      origin: e.origin.line > 0 ? `${e.origin.file}:${e.origin.line}` : e.origin.file,
      valid: true,
      messages: [...e.warnings.map(issueMessage), ...take(e.kind.kind, namespace, m.name)],
      yaml: yamlOf(e),
    });
  }
  for (const bad of invalid) {
    const kind = bad.kind ?? 'Unknown';
    const namespace = bad.namespace ?? '';
    const name = bad.name ?? `(${bad.origin.file}:${bad.origin.line})`;
    const id = resourceId(bad.apiVersion !== undefined ? groupOf(bad.apiVersion) : '', kind, namespace, name);
    const kept = out.get(id);
    const messages = [...bad.issues.map(issueMessage), ...take(kind, namespace, name)];
    out.set(id, {
      id,
      apiVersion: bad.apiVersion ?? '',
      kind,
      namespace,
      name,
      origin: `${bad.origin.file}:${bad.origin.line}`,
      valid: false,
      messages: [...messages, ...(kept?.messages ?? [])],
      yaml: kept !== undefined ? `# the document at ${bad.origin.file}:${bad.origin.line} is invalid; the control plane serves this last good version\n${kept.yaml}` : '',
    });
  }
  // Messages about resources the store does not hold (a kind it skips) stay visible at the top.
  for (const [key, list] of byResource) if (!taken.has(key)) unattached.push(...list);
  const resources = [...out.values()]
    .map((r) => ({ ...r, messages: [...r.messages].sort((a, b) => (LEVEL_ORDER[a.level] ?? 3) - (LEVEL_ORDER[b.level] ?? 3)) }))
    .sort((a, b) => (a.kind !== b.kind ? (a.kind < b.kind ? -1 : 1) : a.namespace !== b.namespace ? (a.namespace < b.namespace ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { resources, messages: unattached };
}
