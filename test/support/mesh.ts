// Test support: a mesh snapshot from inline YAML, validated with every kind, as the control plane builds it.

import { ALL_KINDS } from '../../src/api/kinds.js';
import type { InvalidEntry, ResourceEntry } from '../../src/api/entry.js';
import { snapshotFromConfig, type ConfigSnapshotOptions } from '../../src/model/build-snapshot.js';
import type { MeshSnapshot } from '../../src/model/snapshot.js';
import { parseProxy, type Proxy } from '../../src/model/proxy.js';
import { loadFixture } from './analyze.js';

export interface TestMesh {
  readonly snapshot: MeshSnapshot;
  readonly entries: readonly ResourceEntry[];
  readonly invalid: readonly InvalidEntry[];
}

/** Fails loudly when a fixture does not validate, so a test never runs on silently dropped config. */
export function meshFromYaml(yaml: string, opts: ConfigSnapshotOptions = {}): TestMesh {
  const { entries, invalid } = loadFixture(yaml, ALL_KINDS);
  if (invalid.length > 0) {
    throw new Error(`fixture does not validate:\n${invalid.map((i) => `${i.kind ?? '?'} ${i.name ?? '?'}: ${i.issues.map((x) => `${x.path}: ${x.message}`).join('; ')}`).join('\n')}`);
  }
  return { snapshot: snapshotFromConfig(entries, opts), entries, invalid };
}

export interface TestProxyOptions {
  readonly type?: 'sidecar' | 'router' | 'proxyless';
  readonly ip?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly serviceAccount?: string;
  readonly locality?: { region?: string; zone?: string; subZone?: string };
  /** More node metadata (e.g. HTTP10). */
  readonly metadata?: Record<string, string>;
}

/** A proxy as it would connect: node id `<type>~<ip>~<name>.<ns>~<ns>.svc.cluster.local` plus metadata. */
export function testProxy(o: TestProxyOptions = {}): Proxy {
  const ns = o.namespace ?? 'default';
  const type = o.type === 'router' ? 'router' : 'sidecar';
  const r = parseProxy({
    id: `${type}~${o.ip ?? '10.0.0.1'}~${o.name ?? 'app'}.${ns}~${ns}.svc.cluster.local`,
    metadata: {
      NAMESPACE: ns,
      LABELS: o.labels ?? {},
      SERVICE_ACCOUNT: o.serviceAccount ?? 'default',
      ...(o.type === 'proxyless' ? { GENERATOR: 'grpc' } : {}),
      ...o.metadata,
    },
    ...(o.locality !== undefined ? { locality: o.locality } : {}),
  });
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('; '));
  return r.value;
}
