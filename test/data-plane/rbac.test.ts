// The RBAC HTTP filter (envoy.filters.http.rbac) in a real proxy. Our control plane does not emit RBAC
// yet, so a DiscoveryServer serves raw resources here (what Istio's translation of an AuthorizationPolicy
// produces: an HCM whose RBAC filter sits before the router): an ALLOW policy on `x-user: alice` lets
// alice through to the upstream, and answers bob 403 `RBAC: access denied` without the upstream seeing
// him, with `rbac_access_denied_matched_policy[none]` and no response flag in the access log (Envoy sets
// none for RBAC: Istio's logs show `403 - rbac_access_denied_matched_policy[...]`). An RBAC config the
// proxy cannot enforce (a uri_template without its template, a bad regex, an action outside the enum, which
// breaks Envoy's protoc-gen-validate rules) is NACKed naming the field, and the last good listener keeps serving.
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/rbac_filter

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { XDS_REGISTRY } from '../../src/xds/codec.js';
import { ListenerSchema } from '../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { LISTENER_TYPE } from '../../src/xds/type-urls.js';
import { DiscoveryServer } from '../../src/xds-server/ads-server.js';
import { listenAds } from '../../src/xds-server/grpc-listen.js';
import type { ProxyResources } from '../../src/translate/resources.js';
import { envoyBootstrap } from '../../src/cli/bootstrap.js';
import { parseBootstrap } from '../../src/proxy/bootstrap.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { fakeSnapshot } from '../support/xds-server/fake-mesh.js';
import { freePort, send, startUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

const ALLOW_ALICE: JsonObject = {
  action: 'ALLOW',
  policies: { 'ns[default]-policy[alice-only]-rule[0]': { permissions: [{ any: true }], principals: [{ header: { name: 'x-user', stringMatch: { exact: 'alice' } } }] } },
};

function resources(port: number, upstreamPort: number, logPath: string, rules: JsonObject): ProxyResources {
  const hcm: JsonObject = {
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    statPrefix: 'rbac_test',
    routeConfig: { name: 'local', virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] }] },
    httpFilters: [
      { name: 'envoy.filters.http.rbac', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC', rules } },
      { name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
    ],
    accessLog: [
      {
        name: 'envoy.access_loggers.file',
        typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
          path: logPath,
          logFormat: { textFormatSource: { inlineString: '%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %REQ(X-USER)%\n' } },
        },
      },
    ],
  };
  const listener = fromJson(
    ListenerSchema,
    {
      name: 'rbac_gateway',
      address: { socketAddress: { address: '127.0.0.1', portValue: port } },
      filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: hcm }] }],
    },
    { registry: XDS_REGISTRY },
  );
  const cluster = fromJson(ClusterSchema, {
    name: 'app',
    type: 'STATIC',
    connectTimeout: '1s',
    loadAssignment: { clusterName: 'app', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: upstreamPort } } } }] }] },
  });
  return { listeners: [listener], routes: [], clusters: [cluster], endpoints: [], secrets: [], issues: [] };
}

it('RBAC filter: ALLOW on x-user: alice, 403 for bob, NACK of what cannot be enforced', async (t) => {
  const app = await startUpstream(t, 'app');
  const port = await freePort();
  const logDir = await mkdtemp(join(tmpdir(), 'isthmus-rbac-'));
  t.after(() => rm(logDir, { recursive: true, force: true }));
  const logPath = join(logDir, 'access.log');

  let current = resources(port, app.port, logPath, ALLOW_ALICE);
  const ds = new DiscoveryServer({ translate: () => current, snapshot: fakeSnapshot('v1', []), debounceAfterMs: 0 });
  const ads = await listenAds(ds, { port: 0 });
  t.after(async () => {
    ds.close();
    await ads.close();
  });
  const boot = parseBootstrap(
    envoyBootstrap({ node: 'rbac-gateway', proxyless: false, xdsAddress: ads.address, namespace: 'default', type: 'router', ip: '127.0.0.1', labels: {}, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' } }),
    'test bootstrap',
  );
  const proxy = await startProxy({ bootstrap: boot, adminPort: 0, readinessPort: 0, prometheusPort: 0, readinessHost: '127.0.0.1', bindAddress: '127.0.0.1' });
  t.after(() => proxy.close());

  const get = (user: string, path = '/'): ReturnType<typeof send> => send('127.0.0.1', port, { path, authority: 'app.example.com', headers: { 'x-user': user } });
  const alice = await waitFor(async () => {
    try {
      const r = await get('alice', '/first');
      return r.status === 200 ? r : undefined;
    } catch {
      return undefined;
    }
  }, 'the RBAC listener to serve alice', 10_000);
  assert.equal(alice.body, 'app');
  assert.equal(app.seen.at(-1)?.headers['x-user'], 'alice');

  const logLine = (user: string): Promise<string> =>
    waitFor(async () => {
      const text = await readFile(logPath, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l.endsWith(` ${user}`)).at(-1);
    }, `an access log line for ${user}`);

  await t.test('bob: 403 `RBAC: access denied`, the upstream never sees him, details name no policy, no flag', async () => {
    const seenBefore = app.seen.length;
    const r = await get('bob', '/bob');
    assert.deepEqual([r.status, r.body, r.headers['content-type']], [403, 'RBAC: access denied', 'text/plain']);
    assert.equal(app.seen.length, seenBefore);
    assert.ok(!app.seen.some((s) => s.url === '/bob'));
    assert.equal(await logLine('bob'), '403 - rbac_access_denied_matched_policy[none] bob');
    assert.equal(await logLine('alice'), '200 - via_upstream alice');
    // Envoy's counters, on the proxy's /stats.
    const stats = await (await fetch(`${proxy.adminUrl}/stats`)).text();
    assert.match(stats, /^http\.rbac_test\.rbac\.denied: [1-9]/m);
    assert.match(stats, /^http\.rbac_test\.rbac\.allowed: [1-9]/m);
  });

  const nackFor = async (rules: JsonObject, version: string, marker: string): Promise<string> => {
    current = resources(port, app.port, logPath, rules);
    ds.pushSnapshot(fakeSnapshot(version, []));
    return waitFor(() => {
      const e = proxy.xds.typeState(LISTENER_TYPE).lastError;
      return e !== undefined && e.includes(marker) ? e : undefined;
    }, `the LDS NACK of ${version}`, 10_000);
  };

  await t.test('a uri_template without its template is NACKed naming the field; the last good listener keeps serving', async () => {
    const nack = await nackFor({ action: 'ALLOW', policies: { templ: { permissions: [{ uriTemplate: { name: 'envoy.path.match.uri_template.uri_template_matcher' } }], principals: [{ any: true }] } } }, 'v2', 'policies["templ"]');
    assert.match(nack, /^LDS update rejected \(version \S+\): rbac_gateway: filter_chains\[0\]\.filters\[0\]\(envoy\.filters\.network\.http_connection_manager\)\.typed_config\.http_filters\[0\]\(envoy\.filters\.http\.rbac\)\.typed_config\.rules\.policies\["templ"\]\.permissions\[0\]\.uri_template: typed_config is required/);
    assert.equal((await get('alice')).status, 200);
    assert.equal((await get('bob')).status, 403);
  });

  await t.test('a bad regex is NACKed naming the field', async () => {
    const nack = await nackFor({ action: 'DENY', policies: { re: { permissions: [{ header: { name: ':path', safeRegexMatch: { regex: '/admin(' } } }], principals: [{ any: true }] } } }, 'v3', 'policies["re"]');
    assert.match(nack, /^LDS update rejected \(version \S+\): rbac_gateway: filter_chains\[0\]\.filters\[0\]\(envoy\.filters\.network\.http_connection_manager\)\.typed_config\.http_filters\[0\]\(envoy\.filters\.http\.rbac\)\.typed_config\.rules\.policies\["re"\]\.permissions\[0\]\.header\.safe_regex_match\.regex: invalid regex/);
    assert.equal((await get('bob')).status, 403);
  });

  await t.test("what breaks Envoy's protoc-gen-validate constraints is NACKed with PGV's reason", async () => {
    // rbac.proto: `Action action = 1 [(validate.rules).enum = {defined_only: true}]`.
    const nack = await nackFor({ action: 99, policies: {} }, 'v4', 'rules.action');
    assert.match(nack, /^LDS update rejected \(version \S+\): rbac_gateway: filter_chains\[0\]\.filters\[0\]\(envoy\.filters\.network\.http_connection_manager\)\.typed_config\.http_filters\[0\]\(envoy\.filters\.http\.rbac\)\.typed_config\.rules\.action: value must be one of the defined enum values/);
    assert.equal((await get('alice')).status, 200);
    assert.equal((await get('bob')).status, 403);
  });
});
