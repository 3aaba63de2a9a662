// The workloads `x describe` can name: those registered with the control plane (its /v1/workloads, read
// here from untrusted JSON), and the Pods and WorkloadEntries of its config. A name designates one as
// proxies are designated (src/cli/proxy-target.ts): exactly (`reviews-v1-7f9c-x2k4p`, or `.namespace`
// appended), else as the unique prefix of a workload name in the namespace.

import { isKind } from '../../api/kind.js';
import { POD } from '../../api/core/pod.js';
import { WORKLOAD_ENTRY } from '../../api/networking/workload-entry.js';
import { IsthmusError } from '../../lib/errors.js';
import { workloadFromPod } from '../../registry/kubernetes.js';
import { workloadFromWorkloadEntry } from '../../registry/service-entry.js';
import type { ConfigInput, WorkloadInfo } from './types.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

function portMap(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'number') out[k] = x;
  return out;
}

/** The workload API's answer as workloads; entries without a name are skipped. */
export function parseWorkloadList(body: unknown): WorkloadInfo[] {
  if (!Array.isArray(body)) return [];
  const out: WorkloadInfo[] = [];
  for (const w of body) {
    if (!isRecord(w) || typeof w['name'] !== 'string') continue;
    out.push({
      name: w['name'],
      namespace: typeof w['namespace'] === 'string' ? w['namespace'] : 'default',
      labels: stringMap(w['labels']),
      address: typeof w['address'] === 'string' ? w['address'] : '',
      serviceAccount: typeof w['serviceAccount'] === 'string' ? w['serviceAccount'] : 'default',
      ports: portMap(w['ports']),
      source: 'workload API',
    });
  }
  return out;
}

/** Pods (with an IP) and WorkloadEntries of the config, as workloads. */
export function configWorkloads(config: readonly ConfigInput[]): WorkloadInfo[] {
  const out: WorkloadInfo[] = [];
  for (const c of config) {
    const w = isKind(c.resource, POD) ? workloadFromPod(c.resource) : isKind(c.resource, WORKLOAD_ENTRY) ? workloadFromWorkloadEntry(c.resource) : undefined;
    if (w === undefined) continue;
    out.push({ name: w.name, namespace: w.namespace, labels: w.labels, address: w.address, serviceAccount: w.serviceAccount, ports: w.ports, source: 'config' });
  }
  return out;
}

/** The one workload `name` designates, or undefined when none does; throws when several do. */
export function pickWorkload(workloads: readonly WorkloadInfo[], name: string, namespace: string): WorkloadInfo | undefined {
  const dot = name.indexOf('.');
  const [pod, ns] = dot >= 0 ? [name.slice(0, dot), name.slice(dot + 1)] : [name, namespace];
  const inNs = workloads.filter((w) => w.namespace === ns);
  const exact = inNs.find((w) => w.name === pod);
  if (exact !== undefined) return exact;
  const matches = inNs.filter((w) => w.name.startsWith(pod));
  const names = [...new Set(matches.map((w) => w.name))].sort();
  if (names.length > 1) throw new IsthmusError('ISM_NOT_FOUND', `"${name}" matches several workloads in namespace ${ns}: ${names.join(', ')}; name one`);
  return matches[0];
}

/** The error for a name no workload has, listing those there are. */
export function unknownWorkload(workloads: readonly WorkloadInfo[], name: string, namespace: string): IsthmusError {
  const dot = name.indexOf('.');
  const ns = dot >= 0 ? name.slice(dot + 1) : namespace;
  const known = [...new Set(workloads.map((w) => `${w.name}.${w.namespace}`))].sort();
  return new IsthmusError('ISM_NOT_FOUND', `no workload "${name}" in namespace ${ns}${known.length > 0 ? `; known: ${known.join(', ')}` : ': the mesh has no workloads'}`);
}
