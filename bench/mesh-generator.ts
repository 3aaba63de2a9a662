// Generates a synthetic mesh for the control-plane benchmark: Kubernetes Services spread over namespaces,
// endpoints from registered workloads, DestinationRules with subsets on every fifth service and weighted
// VirtualServices on every tenth, as YAML text, validated through the same path as a config folder.

import { ALL_KINDS } from '../src/api/kinds.js';
import { createKindRegistry } from '../src/api/kind.js';
import { loadText } from '../src/api/load.js';
import type { ResourceEntry } from '../src/api/entry.js';
import { validateDocuments } from '../src/config/validate-documents.js';
import type { LocalWorkloadSpec } from '../src/registry/local-workloads.js';

export interface GeneratedMesh {
  readonly yaml: string;
  readonly entries: readonly ResourceEntry[];
  readonly workloads: readonly LocalWorkloadSpec[];
  readonly namespaces: readonly string[];
}

export function generateMesh(services: number, endpointsPerService: number, namespaces: number): GeneratedMesh {
  const docs: string[] = [];
  const workloads: LocalWorkloadSpec[] = [];
  const nsNames = Array.from({ length: namespaces }, (_, i) => `ns-${i}`);
  for (let i = 0; i < services; i++) {
    const ns = nsNames[i % namespaces] as string;
    const name = `svc-${i}`;
    docs.push(`apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec: {clusterIP: 10.96.${Math.floor(i / 250)}.${i % 250}, selector: {app: ${name}}, ports: [{name: http, port: 8080, targetPort: 8080}]}`);
    if (i % 5 === 0) {
      docs.push(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: ${ns}}
spec: {host: ${name}, trafficPolicy: {connectionPool: {http: {http2MaxRequests: 100}}}, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]}`);
    }
    if (i % 10 === 0) {
      docs.push(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}}
spec: {hosts: [${name}], http: [{match: [{headers: {x-canary: {exact: "1"}}}], route: [{destination: {host: ${name}, subset: v2}}]}, {route: [{destination: {host: ${name}, subset: v1}, weight: 90}, {destination: {host: ${name}, subset: v2}, weight: 10}]}]}`);
    }
    for (let e = 0; e < endpointsPerService; e++) {
      const n = i * endpointsPerService + e;
      workloads.push({
        name: `${name}-${e}`,
        namespace: ns,
        address: `10.${1 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`,
        labels: { app: name, version: e % 2 === 0 ? 'v1' : 'v2' },
        ports: { http: 8080 },
      });
    }
  }
  const yaml = docs.join('\n---\n');
  const loaded = loadText(yaml, 'generated.yaml');
  const { entries, invalid } = validateDocuments(loaded.documents, createKindRegistry(ALL_KINDS), {}, loaded.problems);
  if (invalid.length > 0) throw new Error(`generated mesh does not validate: ${JSON.stringify(invalid[0]?.issues)}`);
  return { yaml, entries, workloads, namespaces: nsNames };
}
