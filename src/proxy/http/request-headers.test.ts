// The connection manager's request header processing against Envoy's ConnectionManagerUtility::
// mutateRequestHeaders and cleanInternalHeaders (conn_manager_utility.cc; the expectations follow
// conn_manager_utility_test.cc's cases): a sidecar (no use_remote_address) and a gateway (use_remote_address),
// internal_address_config, xff_num_trusted_hops and append_x_forwarded_port.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { BlockList } from 'node:net';
import { mutateRequestHeaders } from './request-headers.js';
import type { DownstreamRequest } from './http-stream.js';
import type { HeaderMap } from './headers.js';
import type { CompiledHcm } from '../runtime/compile-hcm.js';

type Settings = Parameters<typeof mutateRequestHeaders>[1];

const SIDECAR: Settings = {
  useRemoteAddress: false,
  xffNumTrustedHops: 0,
  skipXffAppend: false,
  appendXForwardedPort: false,
  internalAddresses: undefined,
  via: '',
  xfcc: { mode: 'sanitize', subject: false, uri: false, dns: false } as CompiledHcm['xfcc'],
  generateRequestId: true,
  preserveExternalRequestId: false,
};
const GATEWAY: Settings = { ...SIDECAR, useRemoteAddress: true };

function tenSlashEight(): (ip: string) => boolean {
  const l = new BlockList();
  l.addSubnet('10.0.0.0', 8, 'ipv4');
  return (ip) => l.check(ip, 'ipv4');
}

/** A request from `peer` to 10.0.0.9:8080 with `headers`; the headers after processing. */
function run(c: Settings, headers: HeaderMap, peer = '203.0.113.7', internalOnly: readonly string[] = []): HeaderMap {
  const r: DownstreamRequest = {
    method: 'GET',
    path: '/',
    authority: 'app.example',
    scheme: 'http',
    protocol: 'HTTP/1.1',
    headers: { ...headers },
    hasBody: false,
    body: new PassThrough(),
    remoteAddress: peer,
    remotePort: 40000,
    localAddress: '10.0.0.9',
    localPort: 8080,
    serverName: '',
  };
  mutateRequestHeaders(r, c, internalOnly);
  return r.headers;
}

/** Headers a client should not be able to steer the proxy with. */
const STEERING: HeaderMap = {
  'x-envoy-retry-on': '5xx',
  'x-envoy-max-retries': '10',
  'x-envoy-upstream-rq-timeout-ms': '1',
  'x-envoy-force-trace': '1',
  'x-envoy-internal': 'true',
  'x-envoy-original-url': 'http://elsewhere/',
  'x-envoy-decorator-operation': 'op',
  'x-envoy-downstream-service-cluster': 'spoofed',
  'x-envoy-attempt-count': '3',
};

describe("the connection manager's request headers", () => {
  it("a sidecar (no use_remote_address): every request is external, so the client's steering headers go; the downstream service ones stay (not an edge)", () => {
    const h = run(SIDECAR, { ...STEERING, 'x-request-id': 'kept', 'x-forwarded-proto': 'https', secret: 'internal only' }, '127.0.0.1', ['secret']);
    for (const k of ['x-envoy-retry-on', 'x-envoy-max-retries', 'x-envoy-upstream-rq-timeout-ms', 'x-envoy-force-trace', 'x-envoy-internal', 'x-envoy-original-url', 'secret']) assert.equal(h[k], undefined, k);
    assert.deepEqual(
      [h['x-envoy-decorator-operation'], h['x-envoy-downstream-service-cluster'], h['x-envoy-attempt-count'], h['x-request-id'], h['x-forwarded-proto'], h['x-forwarded-for'], h['x-envoy-external-address']],
      ['op', 'spoofed', '3', 'kept', 'https', undefined, undefined],
    );
  });

  it('a gateway with no internal addresses: an edge request, with its client recorded and a fresh request id', () => {
    const h = run(GATEWAY, { ...STEERING, 'x-request-id': 'from-client', 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.1' });
    for (const k of ['x-envoy-retry-on', 'x-envoy-force-trace', 'x-envoy-internal', 'x-envoy-decorator-operation', 'x-envoy-downstream-service-cluster']) assert.equal(h[k], undefined, k);
    assert.equal(h['x-forwarded-for'], '198.51.100.1,203.0.113.7');
    assert.equal(h['x-forwarded-proto'], 'http', 'overwritten: the client is no trusted hop');
    assert.equal(h['x-envoy-external-address'], '203.0.113.7');
    assert.notEqual(h['x-request-id'], 'from-client');
    assert.match(String(h['x-request-id']), /^[0-9a-f-]{36}$/);
    const kept = run({ ...GATEWAY, preserveExternalRequestId: true }, { 'x-request-id': 'from-client' });
    assert.equal(kept['x-request-id'], 'from-client');
  });

  it('internal_address_config: a client in it, with no x-forwarded-for, is internal and keeps what it set', () => {
    const c = { ...GATEWAY, internalAddresses: tenSlashEight() };
    const h = run(c, { 'x-envoy-retry-on': '5xx', 'x-envoy-internal': 'false', 'x-request-id': 'internal-id' }, '10.1.2.3');
    assert.deepEqual([h['x-envoy-internal'], h['x-envoy-retry-on'], h['x-request-id'], h['x-envoy-external-address'], h['x-forwarded-for']], ['true', '5xx', 'internal-id', undefined, '10.1.2.3']);
    // One that came through another proxy (it sent x-forwarded-for) is not, nor one from outside the ranges.
    const proxied = run(c, { 'x-envoy-retry-on': '5xx', 'x-forwarded-for': '10.9.9.9' }, '10.1.2.3');
    assert.deepEqual([proxied['x-envoy-internal'], proxied['x-envoy-retry-on'], proxied['x-envoy-external-address']], [undefined, undefined, '10.1.2.3']);
    const outside = run(c, { 'x-envoy-retry-on': '5xx' }, '192.168.1.1');
    assert.deepEqual([outside['x-envoy-internal'], outside['x-envoy-retry-on']], [undefined, undefined]);
  });

  it('xff_num_trusted_hops: the client is the address that many hops back, and a trusted hop keeps its x-forwarded-proto', () => {
    const h = run({ ...GATEWAY, xffNumTrustedHops: 1 }, { 'x-forwarded-for': '198.51.100.1, 192.0.2.5', 'x-forwarded-proto': 'https' });
    assert.deepEqual([h['x-envoy-external-address'], h['x-forwarded-proto'], h['x-forwarded-for']], ['192.0.2.5', 'https', '198.51.100.1, 192.0.2.5,203.0.113.7']);
    // Not an address there: the peer.
    const bad = run({ ...GATEWAY, xffNumTrustedHops: 1 }, { 'x-forwarded-for': 'unknown' });
    assert.equal(bad['x-envoy-external-address'], '203.0.113.7');
  });

  it('append_x_forwarded_port: the listener port, overwriting an untrusted one at a gateway, kept elsewhere', () => {
    assert.equal(run({ ...GATEWAY, appendXForwardedPort: true }, { 'x-forwarded-port': '9999' })['x-forwarded-port'], '8080');
    assert.equal(run({ ...GATEWAY, appendXForwardedPort: true, xffNumTrustedHops: 1 }, { 'x-forwarded-port': '9999' })['x-forwarded-port'], '9999');
    assert.equal(run({ ...SIDECAR, appendXForwardedPort: true }, { 'x-forwarded-port': '9999' })['x-forwarded-port'], '9999');
    assert.equal(run({ ...SIDECAR, appendXForwardedPort: true }, {})['x-forwarded-port'], '8080');
  });
});
