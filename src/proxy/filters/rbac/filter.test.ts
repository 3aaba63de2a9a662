// The RBAC HTTP filter as a client and an operator see it: a denied request gets 403 `RBAC: access
// denied` with the matched policy in the response code details and no response flag; allowed requests
// continue; shadow rules only count; stats carry the rule prefixes; the trusted client address follows
// x-forwarded-for as the connection manager settings say; bad configs name their field.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testStream } from '../../../../test/support/http-stream.js';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { RBACSchema } from '../../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import type { HeaderMap } from '../../http/headers.js';
import type { CompiledHcm } from '../../runtime/compile-hcm.js';
import { StatsStore } from '../../stats/stats-store.js';
import { compileRbacFilter, type RbacFilterConfig } from './config.js';
import { rbacDeniedDetails, runRbacFilter, trustedRemoteAddress } from './filter.js';

function filterConfig(json: JsonObject): RbacFilterConfig {
  const r = compileRbacFilter(fromJson(RBACSchema, json), 'typed_config');
  if (!r.ok) assert.fail(r.problems.join('; '));
  return r.value;
}

const stream = testStream;

const HCM = { statPrefix: 'inbound_0.0.0.0_8080', useRemoteAddress: false, xffNumTrustedHops: 0, skipXffAppend: false } as CompiledHcm;

const ALICE_ONLY = {
  rules: { action: 'ALLOW', policies: { 'ns[default]-policy[alice]-rule[0]': { permissions: [{ any: true }], principals: [{ header: { name: 'x-user', exactMatch: 'alice' } }] } } },
};

describe('RBAC HTTP filter', () => {
  it('allows a matching request and counts it', () => {
    const stats = new StatsStore();
    const { s, sent } = stream({ 'x-user': 'alice' });
    assert.equal(runRbacFilter(filterConfig(ALICE_ONLY), s, HCM, stats), 'continue');
    assert.equal(sent.status, undefined);
    assert.equal(stats.counter('http.inbound_0.0.0.0_8080.rbac.allowed').value, 1);
  });

  it('denies with 403 `RBAC: access denied`, details naming no policy, no response flag', () => {
    const stats = new StatsStore();
    const { s, sent } = stream({ 'x-user': 'bob' });
    assert.equal(runRbacFilter(filterConfig(ALICE_ONLY), s, HCM, stats), 'stop');
    assert.deepEqual([sent.status, sent.body, sent.headers?.['content-type']], [403, 'RBAC: access denied', 'text/plain']);
    assert.equal(s.info.details, 'rbac_access_denied_matched_policy[none]');
    assert.equal(s.info.flags, 0);
    assert.equal(stats.counter('http.inbound_0.0.0.0_8080.rbac.denied').value, 1);
  });

  it('a DENY policy names itself in the details', () => {
    const cfg = filterConfig({ rules: { action: 'DENY', policies: { 'ns[foo]-policy[deny]-rule[0]': { permissions: [{ urlPath: { path: { prefix: '/admin' } } }], principals: [{ any: true }] } } } });
    const { s } = stream({}, '/admin?x=1');
    assert.equal(runRbacFilter(cfg, s, HCM, undefined), 'stop');
    assert.equal(s.info.details, 'rbac_access_denied_matched_policy[ns[foo]-policy[deny]-rule[0]]');
  });

  it('shadow rules are counted with their prefix and never enforced; rule prefixes apply to allowed/denied', () => {
    const stats = new StatsStore();
    const cfg = filterConfig({
      rules: { action: 'DENY', policies: {} },
      rulesStatPrefix: 'enforced_',
      shadowRules: { action: 'DENY', policies: { all: { permissions: [{ any: true }], principals: [{ any: true }] } } },
      shadowRulesStatPrefix: 'istio_dry_run_allow_',
    });
    const { s, sent } = stream({});
    assert.equal(runRbacFilter(cfg, s, HCM, stats), 'continue');
    assert.equal(sent.status, undefined);
    assert.equal(stats.counter('http.inbound_0.0.0.0_8080.rbac.istio_dry_run_allow_shadow_denied').value, 1);
    assert.equal(stats.counter('http.inbound_0.0.0.0_8080.rbac.enforced_allowed').value, 1);
  });

  it('LOG rules never deny', () => {
    const cfg = filterConfig({ rules: { action: 'LOG', policies: { all: { permissions: [{ any: true }], principals: [{ any: true }] } } } });
    assert.equal(runRbacFilter(cfg, stream({}).s, HCM, undefined), 'continue');
  });

  it('whitespace in a policy name becomes _ in the details (Envoy responseDetail)', () => {
    assert.equal(rbacDeniedDetails('ab df\txy'), 'rbac_access_denied_matched_policy[ab_df_xy]');
  });
});

describe('RBAC HTTP filter: the trusted client address (remote_ip)', () => {
  const cases: readonly { name: string; xff?: string; use: boolean; hops: number; skipAppend?: boolean; want: string }[] = [
    { name: 'sidecar default: the last XFF entry', xff: '1.1.1.1, 2.2.2.2', use: false, hops: 0, want: '2.2.2.2' },
    { name: 'one trusted hop: the second from the right', xff: '1.1.1.1, 2.2.2.2', use: false, hops: 1, want: '1.1.1.1' },
    { name: 'no XFF: the peer', use: false, hops: 0, want: '10.0.0.5' },
    { name: 'not an IP: the peer', xff: 'unknown', use: false, hops: 0, want: '10.0.0.5' },
    { name: 'use_remote_address: the peer', xff: '1.1.1.1,10.0.0.5', use: true, hops: 0, want: '10.0.0.5' },
    { name: 'use_remote_address, 1 trusted hop: the last entry the client sent', xff: '1.1.1.1,3.3.3.3,10.0.0.5', use: true, hops: 1, want: '3.3.3.3' },
    { name: 'use_remote_address, 1 hop, skip_xff_append', xff: '1.1.1.1,3.3.3.3', use: true, hops: 1, skipAppend: true, want: '3.3.3.3' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h: HeaderMap = c.xff === undefined ? {} : { 'x-forwarded-for': c.xff };
      assert.equal(trustedRemoteAddress(h, '10.0.0.5', { useRemoteAddress: c.use, xffNumTrustedHops: c.hops, skipXffAppend: c.skipAppend ?? false }), c.want);
    });
  }
});

describe('RBAC HTTP filter config problems', () => {
  it('names every bad field of rules and shadow_rules', () => {
    const r = compileRbacFilter(
      fromJson(RBACSchema, {
        rules: { policies: { p: { permissions: [{ uriTemplate: { name: 'x' } }], principals: [{ any: true }] } } },
        shadowRules: { policies: { q: { permissions: [{ any: true }], principals: [{ header: { name: 'x', safeRegexMatch: { regex: '(' } } }] } } },
      }),
      'http_filters[0](envoy.filters.http.rbac).typed_config',
    );
    assert.equal(r.ok, false);
    const problems = r.ok ? [] : r.problems;
    assert.equal(problems[0], 'http_filters[0](envoy.filters.http.rbac).typed_config.rules.policies["p"].permissions[0].uri_template: typed_config is required');
    assert.match(problems[1] ?? '', /^http_filters\[0\]\(envoy\.filters\.http\.rbac\)\.typed_config\.shadow_rules\.policies\["q"\]\.principals\[0\]\.header\.safe_regex_match\.regex: invalid regex/);
  });
});
