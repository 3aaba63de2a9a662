// DestinationRule loadBalancer and VirtualService weights through an ingress gateway, counted at the
// upstreams: ROUND_ROBIN splits evenly, an 80/20 split across subsets lands near 80/20, consistent hashing
// on a header keeps each value on one endpoint, LEAST_REQUEST steers around a busy endpoint, RANDOM spreads.
// The proxy draws from a seeded Random, so the counts are reproducible.
// https://istio.io/latest/docs/reference/config/networking/destination-rule/#LoadBalancerSettings

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../src/proxy/lib/random.js';
import { startUpstream, type Reply, type TestUpstream, type UpstreamHandler } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { destinationRuleYaml, latch, load, serviceEntryYaml, startGateway, tally, virtualServiceYaml } from './resilience-mesh.js';

function route(prefix: string, destinations: string): string {
  return `  - match: [{uri: {prefix: ${prefix}}}]
    route: ${destinations}
`;
}

const to = (svc: string): string => `[{destination: {host: ${svc}.example.internal, port: {number: 80}}}]`;
const lb = (policy: string): string => `  trafficPolicy: {loadBalancer: ${policy}}\n`;

async function three(t: Parameters<typeof startUpstream>[0], prefix: string, handler?: UpstreamHandler): Promise<TestUpstream[]> {
  return Promise.all([1, 2, 3].map((i) => startUpstream(t, `${prefix}-${i}`, '127.0.0.1', 0, i === 1 ? handler : undefined)));
}

it('load balancing (DestinationRule loadBalancer and weighted routes through an ingress gateway)', async (t) => {
  const rr = await three(t, 'rr');
  const v1 = await startUpstream(t, 'v1');
  const v2 = await startUpstream(t, 'v2');
  const hashed = await three(t, 'hash');
  const busy = latch();
  const lr = await three(t, 'lr', (_req, res) => {
    void busy.wait().then(() => {
      res.writeHead(200);
      res.end('lr-1');
    });
  });
  const rnd = await three(t, 'rnd');
  const cookie = await three(t, 'cookie');
  const eps = (us: readonly TestUpstream[]) => us.map((u) => ({ port: u.port }));

  const gw = await startGateway(
    t,
    () => ({
      'rr.yaml': serviceEntryYaml('rr', eps(rr)),
      'rr-dr.yaml': destinationRuleYaml('rr', lb('{simple: ROUND_ROBIN}')),
      'versions.yaml': serviceEntryYaml('versions', [
        { port: v1.port, labels: { version: 'v1' } },
        { port: v2.port, labels: { version: 'v2' } },
      ]),
      'versions-dr.yaml': destinationRuleYaml('versions', '  subsets:\n  - {name: v1, labels: {version: v1}}\n  - {name: v2, labels: {version: v2}}\n'),
      'hash.yaml': serviceEntryYaml('hash', eps(hashed)),
      'hash-dr.yaml': destinationRuleYaml('hash', lb('{consistentHash: {httpHeaderName: x-user}}')),
      'lr.yaml': serviceEntryYaml('lr', eps(lr)),
      'lr-dr.yaml': destinationRuleYaml('lr', lb('{simple: LEAST_REQUEST}')),
      'rnd.yaml': serviceEntryYaml('rnd', eps(rnd)),
      'rnd-dr.yaml': destinationRuleYaml('rnd', lb('{simple: RANDOM}')),
      'cookie.yaml': serviceEntryYaml('cookie', eps(cookie)),
      'cookie-dr.yaml': destinationRuleYaml('cookie', lb('{consistentHash: {httpCookie: {name: user, ttl: 60s, path: /}}}')),
      'vs.yaml': virtualServiceYaml(
        route('/rr', to('rr')) +
          route(
            '/split',
            `[{destination: {host: versions.example.internal, subset: v1, port: {number: 80}}, weight: 80}, {destination: {host: versions.example.internal, subset: v2, port: {number: 80}}, weight: 20}]`,
          ) +
          route('/hash', to('hash')) +
          route('/lr', to('lr')) +
          route('/rnd', to('rnd')) +
          route('/cookie', to('cookie')),
      ),
    }),
    { random: seededRandom(7) },
  );

  await t.test('ROUND_ROBIN over 3 endpoints: 300 requests split exactly evenly', async () => {
    const replies = await load(300, 6, () => gw.get('/rr'));
    assert.deepEqual([...tally(replies.map((r) => r.body)).entries()].sort(), [
      ['rr-1', 100],
      ['rr-2', 100],
      ['rr-3', 100],
    ]);
  });

  await t.test('weighted 80/20 across subsets (DestinationRule subsets by endpoint labels): within 5 points over 500', async () => {
    const replies = await load(500, 5, () => gw.get('/split'));
    const n = tally(replies.map((r) => r.body));
    assert.equal((n.get('v1') ?? 0) + (n.get('v2') ?? 0), 500);
    const pctV1 = ((n.get('v1') ?? 0) / 500) * 100;
    assert.ok(Math.abs(pctV1 - 80) <= 5, `v1 got ${pctV1}%`);
  });

  await t.test('consistentHash on a header: each value always reaches the same endpoint', async () => {
    const users = Array.from({ length: 24 }, (_, i) => `user-${i}`);
    const byUser = new Map<string, Set<string>>();
    await load(users.length * 4, 4, async (i) => {
      const user = users[i % users.length] as string;
      const r = await gw.get('/hash', { headers: { 'x-user': user } });
      assert.equal(r.status, 200);
      const s = byUser.get(user) ?? new Set<string>();
      s.add(r.body);
      byUser.set(user, s);
    });
    for (const [user, endpoints] of byUser) assert.equal(endpoints.size, 1, `${user} reached ${[...endpoints].join(', ')}`);
    const used = new Set([...byUser.values()].flatMap((s) => [...s]));
    assert.ok(used.size >= 2, `all users hashed to ${[...used].join(', ')}`);
  });

  await t.test('consistentHash on an httpCookie with a ttl: a client without the cookie is given one (Set-Cookie), and with it always reaches the endpoint that served it', async () => {
    // Envoy's router makes the cookie (addDownstreamSetCookie): hex xxHash64 of the connection's addresses,
    // `name="value"; Max-Age=<ttl>; Path=<path>; HttpOnly`, and hashes its value, so the client's next request
    // carrying it reaches the same endpoint. https://istio.io/latest/docs/reference/config/networking/destination-rule/#LoadBalancerSettings-ConsistentHashLB-HTTPCookie
    const used = new Set<string>();
    for (let k = 0; k < 8; k++) {
      const first = await gw.get('/cookie');
      const m = /^user="([0-9a-f]{16})"; Max-Age=60; Path=\/; HttpOnly$/.exec(String(first.headers['set-cookie'] ?? ''));
      assert.ok(m !== null, `set-cookie: ${String(first.headers['set-cookie'])}`);
      used.add(first.body);
      for (const sent of [`user="${m[1]}"`, `other=1; user=${m[1] ?? ''}`]) {
        const again = await gw.get('/cookie', { headers: { cookie: sent } });
        assert.equal(again.body, first.body, `cookie ${sent}`);
        assert.equal(again.headers['set-cookie'], undefined, 'no new cookie when the request has one');
      }
    }
    assert.ok(used.size >= 2, `every new client hashed to ${[...used].join(', ')}`);
  });

  await t.test('LEAST_REQUEST: an endpoint holding requests gets far fewer new ones than its share', async () => {
    const hung: Promise<Reply>[] = [];
    const slow = lr[0] as TestUpstream;
    for (let i = 0; i < 60; i++) {
      const before = slow.seen.length;
      const p = gw.get('/lr');
      // Wait until the request is either answered or held by the busy endpoint before sending the next.
      const outcome = await Promise.race([p.then(() => 'answered' as const), waitFor(() => slow.seen.length > before, 'the busy endpoint to take it').then(() => 'held' as const)]);
      if (outcome === 'held') hung.push(p);
    }
    // Round robin would send it 20 of 60; least request picks it only when both of its two random choices are it.
    assert.ok(slow.seen.length < 15, `the busy endpoint took ${slow.seen.length} of 60`);
    assert.ok((lr[1]?.seen.length ?? 0) > 5 && (lr[2]?.seen.length ?? 0) > 5, 'the idle endpoints share the rest');
    busy.open();
    const late = await Promise.all(hung);
    assert.deepEqual(new Set(late.map((r) => `${r.status} ${r.body}`)), new Set(['200 lr-1']));
  });

  await t.test('RANDOM over 3 endpoints: every endpoint gets a fair share of 300', async () => {
    const replies = await load(300, 6, () => gw.get('/rnd'));
    const n = tally(replies.map((r) => r.body));
    for (const name of ['rnd-1', 'rnd-2', 'rnd-3']) assert.ok((n.get(name) ?? 0) >= 70 && (n.get(name) ?? 0) <= 130, `${name} got ${n.get(name)}`);
  });
});
