import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../lib/random.js';
import type { ClusterHandle } from '../upstream/cluster-handle.js';
import { mirrorTargets, shadowAuthority } from './mirror.js';
import type { CompiledMirrorPolicy } from './route/types.js';

const authorities: { name: string; host: string; want: string }[] = [
  { name: 'a name', host: 'reviews', want: 'reviews-shadow' },
  { name: 'a name with a port: the suffix goes before the port', host: 'reviews.default:9080', want: 'reviews.default-shadow:9080' },
  { name: 'an IPv4 address with a port', host: '10.0.0.1:80', want: '10.0.0.1-shadow:80' },
  { name: 'a bracketed IPv6 address without a port', host: '[::1]', want: '[::1]-shadow' },
  { name: 'a bracketed IPv6 address with a port', host: '[::1]:8080', want: '[::1]-shadow:8080' },
];

for (const c of authorities) {
  test(`shadow authority: ${c.name}`, () => assert.equal(shadowAuthority(c.host), c.want));
}

function policy(p: Partial<CompiledMirrorPolicy>): CompiledMirrorPolicy {
  return { cluster: 'mirror', clusterHeader: '', fraction: { numerator: 100, denominator: 100 }, traceSampled: undefined, disableShadowHostSuffixAppend: false, ...p };
}

const known = new Map<string, ClusterHandle>([
  ['mirror', { config: { name: 'mirror' } } as unknown as ClusterHandle],
  ['from-header', { config: { name: 'from-header' } } as unknown as ClusterHandle],
]);
const lookup = (name: string): ClusterHandle | undefined => known.get(name);
const names = (ts: ReturnType<typeof mirrorTargets>): string[] => ts.map((t) => `${t.cluster.config.name}${t.appendShadowSuffix ? '+suffix' : ''}`);

const targets: { name: string; policies: CompiledMirrorPolicy[]; headers?: Record<string, string>; want: string[] }[] = [
  { name: 'no policies', policies: [], want: [] },
  { name: 'a named cluster, suffix on by default', policies: [policy({})], want: ['mirror+suffix'] },
  { name: 'disable_shadow_host_suffix_append', policies: [policy({ disableShadowHostSuffixAppend: true })], want: ['mirror'] },
  { name: 'a cluster that does not exist is skipped', policies: [policy({ cluster: 'gone' })], want: [] },
  { name: 'cluster_header names the cluster', policies: [policy({ cluster: '', clusterHeader: 'x-mirror' })], headers: { 'x-mirror': 'from-header' }, want: ['from-header+suffix'] },
  { name: 'cluster_header absent: no copy', policies: [policy({ cluster: '', clusterHeader: 'x-mirror' })], want: [] },
  { name: 'a 0% fraction never copies', policies: [policy({ fraction: { numerator: 0, denominator: 100 } })], want: [] },
  { name: 'several policies each apply', policies: [policy({}), policy({ cluster: 'from-header', disableShadowHostSuffixAppend: true })], want: ['mirror+suffix', 'from-header'] },
];

for (const c of targets) {
  test(`mirror targets: ${c.name}`, () => assert.deepEqual(names(mirrorTargets(c.policies, c.headers ?? {}, seededRandom(1), lookup)), c.want));
}

test('mirror targets: a 25% fraction copies about a quarter of requests', () => {
  const random = seededRandom(9);
  const p = [policy({ fraction: { numerator: 25, denominator: 100 } })];
  let n = 0;
  for (let i = 0; i < 10_000; i++) n += mirrorTargets(p, {}, random, lookup).length;
  assert.ok(Math.abs(n / 10_000 - 0.25) < 0.02, `${n} copies`);
});
