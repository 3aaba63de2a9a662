// istio-agent's file secrets: `file-cert:<cert>~<key>`, `file-root:<path>`, `file-root:system`; re-read on change.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSecretSource } from './file-secrets.js';
import { NO_SECRETS } from '../upstream/connection-pools.js';

describe('fileSecretSource', () => {
  it('serves certificate and CA files by name, follows a change, and answers nothing for a missing file', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-file-secrets-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const [cert, key, ca] = ['cert.pem', 'key.pem', 'ca.pem'].map((f) => join(dir, f)) as [string, string, string];
    await writeFile(cert, 'CERT-1');
    await writeFile(key, 'KEY-1');
    await writeFile(ca, 'CA-1');
    let now = 0;
    const s = fileSecretSource(NO_SECRETS, { now: () => now });
    const c1 = s.certificate(`file-cert:${cert}~${key}`);
    assert.deepEqual(c1, { cert: 'CERT-1', key: 'KEY-1' });
    assert.equal(s.certificate(`file-cert:${cert}~${key}`), c1, 'the same object while unchanged');
    assert.deepEqual(s.validation(`file-root:${ca}`), { trustedCa: 'CA-1' });
    await writeFile(cert, 'CERT-2, longer');
    await utimes(cert, new Date(), new Date(Date.now() + 5000));
    assert.equal(s.certificate(`file-cert:${cert}~${key}`), c1, 'checked at most once a second');
    now += 1500;
    assert.deepEqual(s.certificate(`file-cert:${cert}~${key}`), { cert: 'CERT-2, longer', key: 'KEY-1' });
    assert.equal(s.validation(`file-root:${join(dir, 'missing.pem')}`), undefined);
    assert.ok((s.validation('file-root:system')?.trustedCa.length ?? 0) > 10_000, "the system's roots");
    assert.equal(s.certificate('default'), undefined, 'other names go to the fallback');
  });
});
