import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceEntry } from '../api/entry.js';
import { PEER_AUTHENTICATION, type PeerAuthentication } from '../api/security/peer-authentication.js';
import { ConfigStore, type ChangeBatch } from './store.js';

const entry = (name: string, mode: string, file = 'a.yaml'): ResourceEntry => ({
  resource: {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name, namespace: 'default' },
    spec: { mtls: { mode } },
  } as PeerAuthentication,
  kind: PEER_AUTHENTICATION,
  origin: { file, line: 1 },
  warnings: [],
});
const KEY = (n: string): string => `security.istio.io/PeerAuthentication/default/${n}`;

describe('ConfigStore', () => {
  it('emits typed add, update and delete events with a growing revision, and nothing for no-ops', () => {
    const store = new ConfigStore();
    const seen: ChangeBatch[] = [];
    const unsubscribe = store.subscribe((b) => seen.push(b));
    store.replaceSource('a.yaml', [entry('x', 'STRICT'), entry('y', 'STRICT')]);
    store.replaceSource('a.yaml', [entry('x', 'STRICT'), entry('y', 'DISABLE')]);
    assert.equal(store.replaceSource('a.yaml', [entry('x', 'STRICT'), entry('y', 'DISABLE')]), undefined);
    store.replaceSource('a.yaml', [entry('y', 'DISABLE')]);
    assert.deepEqual(
      seen.map((b) => [b.revision, b.changes.map((c) => `${c.type} ${c.key}`)]),
      [
        [1, [`add ${KEY('x')}`, `add ${KEY('y')}`]],
        [2, [`update ${KEY('y')}`]],
        [3, [`delete ${KEY('x')}`]],
      ],
    );
    assert.equal((seen[1]?.changes[0]?.previous?.resource as PeerAuthentication | undefined)?.spec.mtls?.mode, 'STRICT');
    assert.equal(store.revision, 3);
    unsubscribe();
    store.removeSource('a.yaml');
    assert.equal(seen.length, 3);
    assert.equal(store.size, 0);
  });

  it('lists by kind, sorted by key, and keeps the first source when two define one object', () => {
    const store = new ConfigStore();
    store.replaceSources(
      new Map([
        ['b.yaml', [entry('x', 'DISABLE', 'b.yaml')]],
        ['a.yaml', [entry('z', 'STRICT'), entry('x', 'STRICT')]],
      ]),
    );
    assert.deepEqual(store.list('security.istio.io/PeerAuthentication').map((e) => e.resource.metadata.name), ['x', 'z']);
    assert.deepEqual(store.list('networking.istio.io/VirtualService'), []);
    assert.equal(store.get(KEY('x'))?.origin.file, 'a.yaml');
    assert.deepEqual(store.conflicts().map((c) => [c.key, c.ignored.origin.file]), [[KEY('x'), 'b.yaml']]);
    // Removing the winning source hands the object to the other one, as an update.
    const batch = store.removeSource('a.yaml');
    assert.deepEqual(batch?.changes.map((c) => `${c.type} ${c.key}`), [`update ${KEY('x')}`, `delete ${KEY('z')}`]);
    assert.equal(store.get(KEY('x'))?.origin.file, 'b.yaml');
    assert.equal(store.conflicts().length, 0);
  });
});
