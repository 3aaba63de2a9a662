// Tests of the golden-file harness: creation, comparison, refresh, diffs, and the resource dump format.

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertGolden, dumpResources, goldenPath, serializeGolden, unifiedDiff } from './golden.js';
import { httpListener, prefix, resources, route, routeConfig, toCluster, vhost } from './xds-fixtures.js';

describe('assertGolden', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'golden-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails on a missing golden file and says how to create it', () => {
    assert.throws(() => assertGolden('absent', { a: 1 }, { dir, refresh: false }), /does not exist; run with REFRESH_GOLDEN=1/);
    assert.equal(existsSync(goldenPath('absent', dir)), false);
  });

  it('refresh writes pretty JSON in the value\'s key order, then the same value passes', () => {
    const value = { z: 1, a: { list: [1, 2], big: 10n } };
    assertGolden('sub/dir/case', value, { dir, refresh: true });
    const file = join(dir, 'sub/dir/case.golden.json');
    assert.equal(readFileSync(file, 'utf8'), '{\n  "z": 1,\n  "a": {\n    "list": [\n      1,\n      2\n    ],\n    "big": "10"\n  }\n}\n');
    assertGolden('sub/dir/case', value, { dir, refresh: false });
  });

  it('a mismatch fails with a unified diff and the refresh hint, and leaves the file alone', () => {
    const before = { name: 'reviews', port: 9080, weight: 90 };
    assertGolden('mismatch', before, { dir, refresh: true });
    const written = readFileSync(goldenPath('mismatch', dir), 'utf8');
    assert.throws(
      () => assertGolden('mismatch', { ...before, port: 9081 }, { dir, refresh: false }),
      (e: Error) => {
        assert.match(e.message, /golden mismatch: output differs from .*mismatch\.golden\.json \(- golden, \+ got\)/);
        assert.match(e.message, /@@ -1,5 \+1,5 @@/);
        assert.match(e.message, /\n- {2}"port": 9080,\n\+ {2}"port": 9081,\n/);
        assert.match(e.message, /rerun with REFRESH_GOLDEN=1/);
        return true;
      },
    );
    assert.equal(readFileSync(goldenPath('mismatch', dir), 'utf8'), written);
  });

  it('REFRESH_GOLDEN=1 in the environment rewrites the file', () => {
    writeFileSync(join(dir, 'env.golden.json'), '"old"\n');
    const saved = process.env['REFRESH_GOLDEN'];
    process.env['REFRESH_GOLDEN'] = '1';
    try {
      assertGolden('env', 'new', { dir });
    } finally {
      if (saved === undefined) delete process.env['REFRESH_GOLDEN'];
      else process.env['REFRESH_GOLDEN'] = saved;
    }
    assert.equal(readFileSync(join(dir, 'env.golden.json'), 'utf8'), '"new"\n');
  });

  it('rejects names that leave the golden directory', () => {
    assert.throws(() => goldenPath('../escape', dir), /must be a relative path inside the golden directory/);
    assert.throws(() => goldenPath('/abs', dir), /must be a relative path/);
  });

  it('rejects values JSON cannot hold', () => {
    assert.throws(() => serializeGolden(undefined), /not representable as JSON/);
  });
});

describe('unifiedDiff', () => {
  it('shows only the changed region with context and line numbers', () => {
    const a = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
    const b = [...a];
    b[19] = 'changed 20';
    b.splice(30, 0, 'inserted');
    const diff = unifiedDiff(a.join('\n'), b.join('\n'), 2);
    assert.equal(
      diff,
      ['@@ -18,5 +18,5 @@', ' line 18', ' line 19', '-line 20', '+changed 20', ' line 21', ' line 22',
        '@@ -29,4 +29,5 @@', ' line 29', ' line 30', '+inserted', ' line 31', ' line 32'].join('\n'),
    );
  });

  it('cuts a long diff and counts what it left out', () => {
    const a = Array.from({ length: 100 }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: 100 }, (_, i) => `b${i}`).join('\n');
    const diff = unifiedDiff(a, b, 3, 10);
    assert.equal(diff.split('\n').length, 11);
    assert.match(diff, /\.\.\. \(191 more changed lines\)$/);
  });
});

describe('dumpResources', () => {
  it('prints config_dump JSON with typed configs expanded', () => {
    const dump = dumpResources(
      resources({
        listeners: [httpListener({ name: '0.0.0.0_9080', port: 9080, routeName: '9080', bindToPort: false })],
        routes: [routeConfig('9080', [vhost('reviews', ['reviews'], [route('default', prefix('/'), toCluster('outbound|9080||reviews'))])])],
        clusters: ['outbound|9080||reviews'],
      }),
    );
    assert.deepEqual(dump.clusters, [{ name: 'outbound|9080||reviews' }]);
    assert.deepEqual(dump.endpoints, []);
    assert.deepEqual(dump.secrets, []);
    assert.deepEqual(dump.routes, [
      { name: '9080', virtualHosts: [{ name: 'reviews', domains: ['reviews'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'outbound|9080||reviews' } }] }] },
    ]);
    const hcm = JSON.stringify(dump.listeners[0]);
    assert.match(hcm, /"@type":"type\.googleapis\.com\/envoy\.extensions\.filters\.network\.http_connection_manager\.v3\.HttpConnectionManager"/);
    assert.match(hcm, /"rds":\{"configSource":\{"ads":\{\}\},"routeConfigName":"9080"\}/);
    assert.match(hcm, /"bindToPort":false/);
  });

  it('refuses what a real Envoy would refuse, unless the resources are for a proxyless client', () => {
    const bad = resources({ routes: [routeConfig('9080', [vhost('', ['reviews'], [route('default', prefix('/'), toCluster('outbound|9080||reviews'))])])] });
    assert.throws(() => dumpResources(bad), /Envoy would refuse this translation \(protoc-gen-validate\):\nroute 9080: virtual_hosts\[0\]\.name: value length must be at least 1 characters/);
    assert.equal(dumpResources(bad, { envoy: false }).routes.length, 1);
  });
});

