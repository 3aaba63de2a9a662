// A listener's additional_addresses (Istio sets one for dual-stack listeners) are bound too, and serve the same
// filter chains; an address other than a socket address with a port is refused. Real sockets on 127.0.0.1 and
// 127.0.0.2 (both loopback).

import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { request as httpRequest } from 'node:http';
import { create } from '@bufbuild/protobuf';
import { AdditionalAddressSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { createLogger } from '../../lib/logger.js';
import { seededRandom } from '../lib/random.js';
import { compileListener, type CompiledListener } from '../runtime/compile-listener.js';
import { NO_SECRETS } from '../upstream/connection-pools.js';
import { ListenerManager } from './listener-manager.js';
import { directResponse, filterChain, hcmFilter, listener, prefix, route, routeConfig, vhost } from '../../../test/support/xds-fixtures.js';

const socketAddress = (address: string, port: number): ReturnType<typeof create<typeof AdditionalAddressSchema>> =>
  create(AdditionalAddressSchema, { address: { address: { case: 'socketAddress', value: { address, portSpecifier: { case: 'portValue', value: port } } } } });

function dualListener(extra: ReturnType<typeof socketAddress>[]): ReturnType<typeof listener> {
  const routes = routeConfig('inline', [vhost('all', ['*'], [route('ok', prefix('/'), directResponse(200, 'ok'))])]);
  const l = listener({ name: 'dual', address: '127.0.0.1', port: 0, chains: [filterChain({ name: 'dual', filters: [hcmFilter({ routeConfig: routes })] })] });
  l.additionalAddresses = extra;
  return l;
}

let manager: ListenerManager;

before(async () => {
  manager = new ListenerManager({
    env: { routeTable: () => undefined, cluster: () => undefined, random: seededRandom(7), secrets: NO_SECRETS, onStreamComplete: () => undefined },
    secrets: NO_SECRETS,
    logger: createLogger('error', () => undefined),
  });
  const r = compileListener(dualListener([socketAddress('127.0.0.2', 0)]));
  if (!r.ok) throw new Error(r.problems.join('; '));
  assert.deepEqual(await manager.apply(new Map<string, CompiledListener>([['dual', r.value]])), []);
});

after(() => manager.close());

function get(host: string, port: number): Promise<string> {
  return new Promise((ok, fail) => {
    const req = httpRequest({ host, port, path: '/', headers: { host: 'app.example' }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => ok(`${res.statusCode} ${body}`));
    });
    req.on('error', fail);
    req.end();
  });
}

it('the listener answers on its address and on each additional address', async () => {
  const bound = manager.bound().filter((b) => b.name === 'dual');
  assert.deepEqual(bound.map((b) => b.address).sort(), ['127.0.0.1', '127.0.0.2']);
  for (const b of bound) assert.equal(await get(b.address, b.port), '200 ok');
});

it('an additional address without a port, or with socket options, is refused', () => {
  const pipe = create(AdditionalAddressSchema, { address: { address: { case: 'pipe', value: { path: '/tmp/x.sock' } } } });
  const r = compileListener(dualListener([pipe]));
  assert.deepEqual(r.ok ? [] : r.problems, ['additional_addresses[0].address: only socket addresses with a port value are supported']);
});
