// The short names a proxyless client may ask for, as Istio's grpcgen tryFindFQDN expands them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shortNamesFor } from './proxyless-listeners.js';

describe('shortNamesFor', () => {
  it('a service in the client`s namespace answers to its short, namespaced and .svc names', () => {
    assert.deepEqual(shortNamesFor('echo.default.svc.cluster.local', 'default', 'default.svc.cluster.local'), ['echo', 'echo.default', 'echo.default.svc']);
  });

  it('services elsewhere, ServiceEntry hosts and unknown DNS domains get none', () => {
    assert.deepEqual(shortNamesFor('echo.other.svc.cluster.local', 'default', 'default.svc.cluster.local'), []);
    assert.deepEqual(shortNamesFor('api.example.com', 'default', 'default.svc.cluster.local'), []);
    assert.deepEqual(shortNamesFor('echo.default.svc.cluster.local', 'default', ''), []);
  });
});
