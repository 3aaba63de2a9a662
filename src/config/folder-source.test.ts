import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKindRegistry } from '../api/kind.js';
import { PEER_AUTHENTICATION } from '../api/security/peer-authentication.js';
import { FolderSource } from './folder-source.js';
import { ConfigStore, type ChangeBatch } from './store.js';
import { waitFor } from '../../test/support/wait.js';

const registry = createKindRegistry([PEER_AUTHENTICATION]);
const pa = (name: string, mode: string, ns = 'default'): string =>
  `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n  mtls: {mode: ${mode}}\n`;
const modeOf = (store: ConfigStore, name: string): string | undefined => {
  const e = store.get(`security.istio.io/PeerAuthentication/default/${name}`);
  return (e?.resource as { spec?: { mtls?: { mode?: string } } } | undefined)?.spec?.mtls?.mode;
};

describe('FolderSource', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'isthmus-folder-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a folder recursively and follows edits, invalid edits, recovery and deletion live', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'a.yaml'), pa('a', 'STRICT') + '---\n' + pa('b', 'PERMISSIVE'));
    await writeFile(join(dir, 'sub', 'c.yml'), pa('c', 'DISABLE'));
    await writeFile(join(dir, 'notes.txt'), 'not config');
    const store = new ConfigStore();
    const batches: ChangeBatch[] = [];
    store.subscribe((b) => batches.push(b));
    const src = new FolderSource({ dir, registry, store, debounceMs: 30, cwd: dir });
    const first = await src.start();
    try {
      assert.equal(store.size, 3);
      assert.deepEqual(first.batch?.changes.map((c) => `${c.type} ${c.key}`), [
        'add security.istio.io/PeerAuthentication/default/a',
        'add security.istio.io/PeerAuthentication/default/b',
        'add security.istio.io/PeerAuthentication/default/c',
      ]);
      assert.equal(store.get('security.istio.io/PeerAuthentication/default/c')?.origin.file, join('sub', 'c.yml'));

      // A valid edit: only that resource updates.
      await writeFile(join(dir, 'a.yaml'), pa('a', 'DISABLE') + '---\n' + pa('b', 'PERMISSIVE'));
      await waitFor(() => modeOf(store, 'a') === 'DISABLE', 'a to become DISABLE');
      const last = batches[batches.length - 1];
      assert.deepEqual(last?.changes.map((c) => `${c.type} ${c.key}`), ['update security.istio.io/PeerAuthentication/default/a']);

      // An edit that makes `a` invalid keeps its last good version and reports the problem with a line.
      const rev = store.revision;
      await writeFile(join(dir, 'a.yaml'), pa('a', 'SOMETIMES') + '---\n' + pa('b', 'STRICT'));
      await waitFor(() => modeOf(store, 'b') === 'STRICT', 'b to become STRICT');
      assert.equal(modeOf(store, 'a'), 'DISABLE');
      assert.equal(store.revision, rev + 1);
      const problems = src.problems();
      assert.equal(problems.length, 1);
      assert.equal(problems[0]?.name, 'a');
      assert.equal(problems[0]?.issues[0]?.path, 'spec.mtls.mode');
      assert.equal(problems[0]?.locate?.('spec.mtls.mode'), 5);

      // A file that stops parsing keeps every resource it had.
      await writeFile(join(dir, 'a.yaml'), 'apiVersion: [unclosed\n');
      await waitFor(() => src.problems().some((p) => p.issues[0]?.message.startsWith('yaml:')), 'yaml problem');
      assert.equal(store.size, 3);
      assert.equal(modeOf(store, 'a'), 'DISABLE');

      // Fixing the file recovers; removing a resource from it deletes that resource.
      await writeFile(join(dir, 'a.yaml'), pa('a', 'STRICT'));
      await waitFor(() => modeOf(store, 'a') === 'STRICT' && store.size === 2, 'recovery and deletion of b');
      assert.equal(src.problems().length, 0);

      // Deleting a file deletes its resources.
      await unlink(join(dir, 'sub', 'c.yml'));
      await waitFor(() => store.size === 1, 'deletion of c');
      assert.equal(store.get('security.istio.io/PeerAuthentication/default/c'), undefined);
    } finally {
      src.stop();
    }
  });

  it('reports a resource defined twice and keeps the first file’s version', async () => {
    const d = await mkdtemp(join(tmpdir(), 'isthmus-dup-'));
    try {
      await writeFile(join(d, '1.yaml'), pa('x', 'STRICT'));
      await writeFile(join(d, '2.yaml'), pa('x', 'DISABLE'));
      const store = new ConfigStore();
      const src = new FolderSource({ dir: d, registry, store, cwd: d });
      await src.reload();
      assert.equal(modeOf(store, 'x'), 'STRICT');
      assert.equal(store.conflicts().length, 1);
      assert.equal(store.conflicts()[0]?.ignored.origin.file, '2.yaml');
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
