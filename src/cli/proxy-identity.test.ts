// `isthmus proxy --token-file/--ca-address/--cert-ttl`: what a user gets for each, bad values included.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsthmusError } from '../lib/errors.js';
import { identityOptions } from './proxy.js';

const usage = (message: RegExp) => (e: unknown) => e instanceof IsthmusError && e.code === 'ISM_USAGE' && message.test(e.message);

describe('proxy identity flags', () => {
  it('reads the token file anew for every request, relative to the working directory', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-token-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'token'), 'first');
    const o = identityOptions(dir, { tokenFile: 'token', caAddress: '127.0.0.1:15012', certTtl: '600' });
    assert.ok(o !== undefined);
    assert.equal(await o.token(), 'first');
    await writeFile(join(dir, 'token'), 'rotated');
    assert.equal(await o.token(), 'rotated');
    assert.deepEqual([o.caAddress, o.certTtlSeconds], ['127.0.0.1:15012', 600]);
    await assert.rejects(identityOptions(dir, { tokenFile: 'missing' })?.token() ?? Promise.resolve(), /cannot read the token file .*missing: ENOENT/);
    assert.equal(identityOptions(dir, {}), undefined, 'no identity without a token file');
  });

  it('refuses values it cannot use, naming the flag', () => {
    assert.throws(() => identityOptions('/', { tokenFile: 't', certTtl: '1.5' }), usage(/^invalid --cert-ttl "1\.5": must be a whole number of seconds$/));
    assert.throws(() => identityOptions('/', { tokenFile: 't', certTtl: '0' }), usage(/--cert-ttl/));
    assert.throws(() => identityOptions('/', { tokenFile: 't', caAddress: 'ca.example' }), usage(/^invalid --ca-address "ca\.example": must be host:port$/));
    assert.throws(() => identityOptions('/', { caAddress: '127.0.0.1:15012' }), usage(/^--ca-address and --cert-ttl need --token-file$/));
  });
});
