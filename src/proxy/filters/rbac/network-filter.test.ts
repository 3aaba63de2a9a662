// envoy.filters.network.rbac: a TCP connection's peer identity and addresses decide; denials name the policy;
// stats under <stat_prefix>rbac.; CONTINUOUS enforcement is refused (NACK) rather than enforced wrongly.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { RBACSchema } from '../../../xds/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { StatsStore } from '../../stats/stats-store.js';
import { compileNetworkRbac, runNetworkRbac, type NetworkRbacConfig } from './network-filter.js';

function config(json: JsonObject): NetworkRbacConfig {
  const r = compileNetworkRbac(fromJson(RBACSchema, json), 'typed_config');
  if (!r.ok) assert.fail(r.problems.join('; '));
  return r.value;
}

const ALLOW_SLEEP = config({
  statPrefix: 'tcp.',
  rules: {
    action: 'ALLOW',
    policies: { 'ns[default]-policy[db]-rule[0]': { permissions: [{ any: true }], principals: [{ authenticated: { principalName: { exact: 'spiffe://cluster.local/ns/default/sa/sleep' } } }] } },
  },
});
const conn = (uri: string | undefined) => ({ remoteIp: '10.0.0.5', remotePort: 4000, localIp: '10.0.0.9', localPort: 5432, sni: '', tls: uri === undefined ? undefined : { uriSans: [uri], dnsSans: [], subject: '' } });

describe('network RBAC', () => {
  it('allows the named identity and closes the rest, counting both', () => {
    const stats = new StatsStore();
    assert.equal(runNetworkRbac([ALLOW_SLEEP], conn('spiffe://cluster.local/ns/default/sa/sleep'), stats), undefined);
    assert.equal(runNetworkRbac([ALLOW_SLEEP], conn('spiffe://cluster.local/ns/other/sa/curl'), stats), 'rbac_access_denied_matched_policy[none]');
    assert.equal(runNetworkRbac([ALLOW_SLEEP], conn(undefined), stats), 'rbac_access_denied_matched_policy[none]', 'plaintext has no identity');
    assert.equal(stats.counter('tcp.rbac.allowed').value, 1);
    assert.equal(stats.counter('tcp.rbac.denied').value, 2);
  });

  it('a DENY names the matched policy; the first denying filter decides', () => {
    const deny = config({ statPrefix: 'tcp.', rules: { action: 'DENY', policies: { 'ns[default]-policy[no-lan]-rule[0]': { permissions: [{ any: true }], principals: [{ directRemoteIp: { addressPrefix: '10.0.0.0', prefixLen: 8 } }] } } } });
    assert.equal(runNetworkRbac([deny, ALLOW_SLEEP], conn('spiffe://cluster.local/ns/default/sa/sleep'), undefined), 'rbac_access_denied_matched_policy[ns[default]-policy[no-lan]-rule[0]]');
  });

  it('refuses what it cannot enforce, naming the field', () => {
    const r = compileNetworkRbac(fromJson(RBACSchema, { statPrefix: 'tcp.', enforcementType: 'CONTINUOUS', rules: { action: 'ALLOW' } }), 'typed_config');
    assert.deepEqual(r.ok ? [] : r.problems, ['typed_config.enforcement_type: CONTINUOUS is not supported (ONE_TIME_ON_FIRST_BYTE only)']);
  });
});
