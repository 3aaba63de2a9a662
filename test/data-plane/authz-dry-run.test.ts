// `istio.io/dry-run: "true"`: the policy is evaluated but not enforced; its result shows in the RBAC filter's
// shadow stats and, as Istio documents, in the access log through the dynamic metadata the filter writes
// (`%DYNAMIC_METADATA(envoy.filters.http.rbac:istio_dry_run_deny_shadow_effective_policy_id)%`).
// https://istio.io/latest/docs/tasks/security/authorization/authz-dry-run/

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, send, startMesh, startTestProxy, startUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

describe('AuthorizationPolicy dry-run', () => {
  it('answers as if there were no policy, and reports what it would have done in stats and the access log', async (t) => {
    const target = await freePort();
    await startUpstream(t, 'reviews', '127.0.0.1', target);
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-dry-run-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const log = join(dir, 'access.log');
    const mesh = await startMesh(
      t,
      {
        'svc.yaml': `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: ${target}}]
`,
        'authz.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: default, annotations: {"istio.io/dry-run": "true"}}
spec:
  selector: {matchLabels: {app: reviews}}
  action: DENY
  rules: [{to: [{operation: {paths: ["/admin*"]}}]}]
`,
      },
      {
        accessLogFile: log,
        accessLogFormat:
          '%REQ(:PATH)% %RESPONSE_CODE% %DYNAMIC_METADATA(envoy.filters.http.rbac:istio_dry_run_deny_shadow_engine_result)% %DYNAMIC_METADATA(envoy.filters.http.rbac:istio_dry_run_deny_shadow_effective_policy_id)%\n',
      },
    );
    mesh.cp.workloads.register({ name: 'reviews-v1', namespace: 'default', address: '127.0.6.9', labels: { app: 'reviews' }, ports: { http: target }, tlsMode: 'disabled' });
    const proxy = await startTestProxy(t, mesh, { node: 'reviews-v1', ip: '127.0.6.9', labels: { app: 'reviews' } });
    const get = (path: string) => send('127.0.6.9', target, { path, authority: 'reviews:9080' });
    await waitFor(async () => (await get('/ready')).status === 200, 'the inbound listener', 10_000);
    assert.equal((await get('/admin/users')).status, 200, 'not enforced');
    assert.equal((await get('/public')).status, 200);
    const lines = await waitFor(async () => {
      const l = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((x) => x.startsWith('/admin') || x.startsWith('/public'));
      return l.length >= 2 ? l : undefined;
    }, 'the access log lines', 10_000);
    assert.deepEqual(lines, ['/admin/users 200 denied ns[default]-policy[deny-admin]-rule[0]', '/public 200 allowed -']);
    const stats = await (await fetch(`${proxy.adminUrl}/stats`)).text();
    assert.match(stats, /^http\.\S+\.rbac\.istio_dry_run_deny_shadow_denied: 1$/m);
    assert.match(stats, /^http\.\S+\.rbac\.istio_dry_run_deny_shadow_allowed: [1-9]\d*$/m);
  });
});
