import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hasAnyResponseFlag,
  RESPONSE_FLAG_SPECS,
  ResponseFlag,
  responseFlagByName,
  responseFlagsToLongString,
  responseFlagsToString,
} from './response-flags.js';

describe('response flags', () => {
  const cases: { name: string; flags: number; short: string; long: string }[] = [
    { name: 'none', flags: 0, short: '-', long: '-' },
    { name: 'no healthy upstream', flags: ResponseFlag.UH, short: 'UH', long: 'NoHealthyUpstream' },
    { name: 'connection failure', flags: ResponseFlag.UF, short: 'UF', long: 'UpstreamConnectionFailure' },
    { name: 'rbac-style ext authz deny', flags: ResponseFlag.UAEX, short: 'UAEX', long: 'UnauthorizedExternalService' },
    {
      name: "several flags print in Envoy's order, not the order they were set",
      flags: ResponseFlag.URX | ResponseFlag.UF,
      short: 'UF,URX',
      long: 'UpstreamConnectionFailure,UpstreamRetryLimitExceeded',
    },
    {
      name: 'timeout after a delay fault',
      flags: ResponseFlag.UT | ResponseFlag.DI,
      short: 'UT,DI',
      long: 'UpstreamRequestTimeout,DelayInjected',
    },
    { name: 'downstream reset and terminated', flags: ResponseFlag.DC | ResponseFlag.DR, short: 'DC,DR', long: 'DownstreamConnectionTermination,DownstreamRemoteReset' },
    { name: 'the last flag', flags: ResponseFlag.UDO, short: 'UDO', long: 'UnconditionalDropOverload' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(responseFlagsToString(c.flags), c.short);
      assert.equal(responseFlagsToLongString(c.flags), c.long);
    });
  }

  it("lists Envoy's flags in Envoy's order", () => {
    assert.deepEqual(
      RESPONSE_FLAG_SPECS.map((s) => s.short),
      ['LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH',
        'DPE', 'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO', 'DR', 'UDO'],
    );
  });

  it('has one bit per flag, matching the ResponseFlag constants', () => {
    for (const s of RESPONSE_FLAG_SPECS) {
      assert.equal(ResponseFlag[s.short as keyof typeof ResponseFlag], s.bit, s.short);
    }
    const all = RESPONSE_FLAG_SPECS.reduce((a, s) => a | s.bit, 0);
    assert.equal(responseFlagsToString(all).split(',').length, RESPONSE_FLAG_SPECS.length);
  });

  it('finds flags by short or long name', () => {
    assert.equal(responseFlagByName('NR'), ResponseFlag.NR);
    assert.equal(responseFlagByName('NoRouteFound'), ResponseFlag.NR);
    assert.equal(responseFlagByName('XX'), undefined);
    assert.ok(hasAnyResponseFlag(ResponseFlag.UH | ResponseFlag.UT, ResponseFlag.UT | ResponseFlag.NR));
    assert.ok(!hasAnyResponseFlag(ResponseFlag.UH, ResponseFlag.NR));
  });
});
