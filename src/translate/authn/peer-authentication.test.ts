import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MESH_CONFIG } from '../../model/mesh-config.js';
import type { PeerAuthentication, PeerAuthenticationSpec } from '../../api/security/peer-authentication.js';
import {
  composePeerAuthentication,
  mtlsModeForPort,
  namespaceMtlsMode,
  peerAuthenticationForWorkload,
  peerAuthenticationsForWorkload,
  type MtlsMode,
} from './peer-authentication.js';

const ROOT = 'istio-system';

function pa(namespace: string, name: string, spec: PeerAuthenticationSpec, created = '2024-01-01T00:00:00Z'): PeerAuthentication {
  return { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace, creationTimestamp: created }, spec };
}

const strict = { mtls: { mode: 'STRICT' } } as const;
const disable = { mtls: { mode: 'DISABLE' } } as const;
const permissive = { mtls: { mode: 'PERMISSIVE' } } as const;
const unset = { mtls: { mode: 'UNSET' } } as const;
const sel = (labels: Record<string, string>) => ({ selector: { matchLabels: labels } });

/** A snapshot stand-in: policies by namespace, oldest first, as MeshSnapshot.peerAuthentications returns them. */
function source(list: readonly PeerAuthentication[]) {
  return {
    mesh: { ...DEFAULT_MESH_CONFIG, rootNamespace: ROOT },
    peerAuthentications: (ns: string) => list.filter((p) => p.metadata.namespace === ns),
  } as const;
}

function perPort(composed: ReturnType<typeof composePeerAuthentication>): Record<number, MtlsMode> {
  return Object.fromEntries(composed.perPort);
}

describe('composePeerAuthentication', () => {
  const cases: { name: string; configs: PeerAuthentication[]; mode: MtlsMode; ports?: Record<number, MtlsMode> }[] = [
    { name: 'no policy: PERMISSIVE', configs: [], mode: 'PERMISSIVE' },
    { name: 'mesh STRICT', configs: [pa(ROOT, 'm', strict)], mode: 'STRICT' },
    { name: 'mesh UNSET: PERMISSIVE', configs: [pa(ROOT, 'm', unset)], mode: 'PERMISSIVE' },
    { name: 'mesh without mtls field: PERMISSIVE', configs: [pa(ROOT, 'm', {})], mode: 'PERMISSIVE' },
    { name: 'namespace DISABLE overrides mesh STRICT', configs: [pa('default', 'n', disable), pa(ROOT, 'm', strict)], mode: 'DISABLE' },
    { name: 'namespace UNSET inherits mesh STRICT', configs: [pa('default', 'n', unset), pa(ROOT, 'm', strict)], mode: 'STRICT' },
    { name: 'workload STRICT overrides namespace DISABLE', configs: [pa('default', 'w', { ...sel({ app: 'a' }), ...strict }), pa('default', 'n', disable)], mode: 'STRICT' },
    { name: 'workload UNSET inherits namespace, then mesh', configs: [pa('default', 'w', sel({ app: 'a' })), pa(ROOT, 'm', strict)], mode: 'STRICT' },
    {
      name: 'workload STRICT with port-level DISABLE and UNSET (inherits the workload mode)',
      configs: [pa('default', 'w', { ...sel({ app: 'a' }), ...strict, portLevelMtls: { '8080': { mode: 'DISABLE' }, '9090': { mode: 'UNSET' } } })],
      mode: 'STRICT',
      ports: { 8080: 'DISABLE', 9090: 'STRICT' },
    },
    {
      name: 'port UNSET in an UNSET workload policy inherits the namespace mode',
      configs: [pa('default', 'w', { ...sel({ app: 'a' }), portLevelMtls: { '8080': {} } }), pa('default', 'n', disable)],
      mode: 'DISABLE',
      ports: { 8080: 'DISABLE' },
    },
    {
      name: 'the oldest workload policy wins, whatever the list order',
      configs: [pa('default', 'new', { ...sel({ app: 'a' }), ...disable }, '2024-02-01T00:00:00Z'), pa('default', 'old', { ...sel({ app: 'a' }), ...strict }, '2024-01-01T00:00:00Z')],
      mode: 'STRICT',
    },
    {
      name: 'the oldest namespace policy wins',
      configs: [pa('default', 'old', permissive, '2023-01-01T00:00:00Z'), pa('default', 'new', strict, '2024-01-01T00:00:00Z')],
      mode: 'PERMISSIVE',
    },
    { name: 'equal creation times: the first listed wins', configs: [pa('default', 'a', strict), pa('default', 'b', disable)], mode: 'STRICT' },
    { name: 'a selector policy in the root namespace is ignored', configs: [pa(ROOT, 'w', { ...sel({ app: 'a' }), ...disable })], mode: 'PERMISSIVE' },
    { name: 'port-level settings of the losing workload policy are not used', configs: [pa('default', 'old', sel({ app: 'a' }), '2023-01-01T00:00:00Z'), pa('default', 'new', { ...sel({ app: 'a' }), portLevelMtls: { '80': { mode: 'DISABLE' } } })], mode: 'PERMISSIVE', ports: {} },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = composePeerAuthentication(ROOT, c.configs);
      assert.equal(got.mode, c.mode);
      assert.deepEqual(perPort(got), c.ports ?? {});
    });
  }

  it('mtlsModeForPort: the port override, else the workload mode', () => {
    const got = composePeerAuthentication(ROOT, [pa('default', 'w', { ...sel({ app: 'a' }), ...strict, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } })]);
    assert.equal(mtlsModeForPort(got, 8080), 'PERMISSIVE');
    assert.equal(mtlsModeForPort(got, 9080), 'STRICT');
    assert.equal(mtlsModeForPort(got, 0), 'STRICT');
  });
});

describe('peerAuthenticationsForWorkload', () => {
  const all = [
    pa(ROOT, 'mesh', strict),
    pa(ROOT, 'mesh-selector', { ...sel({ app: 'a' }), ...disable }),
    pa('default', 'ns', permissive),
    pa('default', 'for-a', { ...sel({ app: 'a' }), ...disable }),
    pa('default', 'for-a-v2', { ...sel({ app: 'a', version: 'v2' }), ...strict }),
    pa('other', 'ns', disable),
  ];
  const names = (l: readonly PeerAuthentication[]) => l.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);

  it('selects the workload namespace and root namespace policies whose selector is a subset of the labels', () => {
    assert.deepEqual(names(peerAuthenticationsForWorkload(source(all), ROOT, 'default', { app: 'a', version: 'v1' })), ['default/ns', 'default/for-a', 'istio-system/mesh', 'istio-system/mesh-selector']);
    assert.deepEqual(names(peerAuthenticationsForWorkload(source(all), ROOT, 'default', { app: 'b' })), ['default/ns', 'istio-system/mesh']);
  });

  it('a workload in the root namespace reads it once', () => {
    assert.deepEqual(names(peerAuthenticationsForWorkload(source(all), ROOT, ROOT, {})), ['istio-system/mesh']);
  });

  it('composes to the workload policy for a selected workload, the namespace policy otherwise', () => {
    assert.equal(peerAuthenticationForWorkload(source(all), 'default', { app: 'a' }).mode, 'DISABLE');
    assert.equal(peerAuthenticationForWorkload(source(all), 'default', { app: 'b' }).mode, 'PERMISSIVE');
    assert.equal(peerAuthenticationForWorkload(source(all), 'other', { app: 'a' }).mode, 'DISABLE');
    assert.equal(peerAuthenticationForWorkload(source(all), 'third', { app: 'a' }).mode, 'STRICT');
  });
});

describe('namespaceMtlsMode (GetNamespaceMutualTLSMode)', () => {
  const cases: { name: string; list: PeerAuthentication[]; ns: string; want: MtlsMode | undefined }[] = [
    { name: 'no policy: unknown', list: [], ns: 'default', want: undefined },
    { name: 'mesh STRICT', list: [pa(ROOT, 'm', strict)], ns: 'default', want: 'STRICT' },
    { name: 'mesh UNSET is PERMISSIVE', list: [pa(ROOT, 'm', unset)], ns: 'default', want: 'PERMISSIVE' },
    { name: 'namespace DISABLE over mesh STRICT', list: [pa(ROOT, 'm', strict), pa('default', 'n', disable)], ns: 'default', want: 'DISABLE' },
    { name: 'namespace UNSET inherits mesh', list: [pa(ROOT, 'm', disable), pa('default', 'n', {})], ns: 'default', want: 'DISABLE' },
    { name: 'namespace UNSET without mesh: PERMISSIVE', list: [pa('default', 'n', {})], ns: 'default', want: 'PERMISSIVE' },
    { name: 'workload policies do not count', list: [pa('default', 'w', { ...sel({ app: 'a' }), ...disable })], ns: 'default', want: undefined },
    { name: 'the root namespace has the mesh mode', list: [pa(ROOT, 'm', disable)], ns: ROOT, want: 'DISABLE' },
    { name: 'the oldest namespace policy counts', list: [pa('default', 'old', disable, '2023-01-01T00:00:00Z'), pa('default', 'new', strict)], ns: 'default', want: 'DISABLE' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(namespaceMtlsMode(source(c.list), c.ns), c.want);
    });
  }
});
