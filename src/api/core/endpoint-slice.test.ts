import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid, validateYaml } from '../../../test/support/kinds.js';
import { ENDPOINT_SLICE, endpointSliceServiceName, isEndpointReady, type EndpointSlice } from './endpoint-slice.js';

const K = [ENDPOINT_SLICE];
const head = 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: reviews-abc12, namespace: default, labels: {kubernetes.io/service-name: reviews}}\n';
const es = (body: string): string => head + body;

const FULL = es(`addressType: IPv4
ports:
- {name: http, port: 9080, protocol: TCP, appProtocol: http}
endpoints:
- addresses: [10.244.1.7]
  conditions: {ready: true, serving: true, terminating: false}
  hostname: reviews-v1
  nodeName: kind-worker
  zone: us-east-1a
  targetRef: {kind: Pod, name: reviews-v1-abc, namespace: default, uid: u1}
  hints: {forZones: [{name: us-east-1a}], forNodes: [{name: kind-worker}]}
  deprecatedTopology: {kubernetes.io/hostname: kind-worker}
- addresses: [10.244.2.9]
  conditions: {ready: false, serving: true, terminating: true}
`);

describe('EndpointSlice', () => {
  it('accepts a slice as the controller writes it (full-featured) and reads readiness', () => {
    expectValid(FULL, K);
    const out = validateYaml(FULL, K);
    assert.ok(out.ok);
    const s = out.resource as EndpointSlice;
    assert.equal(endpointSliceServiceName(s), 'reviews');
    assert.deepEqual(s.endpoints?.map(isEndpointReady), [true, false]);
  });

  it('accepts IPv6 and FQDN slices and an unnamed all-ports slice', () => {
    expectValid(es('addressType: IPv6\nendpoints: [{addresses: ["fd00::7"]}]\nports: [{port: 80}]\n'), K);
    expectValid(es('addressType: FQDN\nendpoints: [{addresses: [api.example.com]}]\n'), K);
    expectValid(es('addressType: IPv4\nendpoints: []\nports: [{}]\n'), K);
  });

  const invalid: { name: string; body: string; path: string; message: string }[] = [
    { name: 'missing addressType', body: 'endpoints: []\n', path: 'addressType', message: 'Required value' },
    {
      name: 'unsupported addressType',
      body: 'addressType: IP\n',
      path: 'addressType',
      message: 'Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"',
    },
    {
      name: 'an endpoint without addresses',
      body: 'addressType: IPv4\nendpoints: [{addresses: []}]\n',
      path: 'endpoints[0].addresses',
      message: 'Required value: must contain at least 1 address',
    },
    {
      name: 'an IPv6 address in an IPv4 slice',
      body: 'addressType: IPv4\nendpoints: [{addresses: ["fd00::1"]}]\n',
      path: 'endpoints[0].addresses[0]',
      message: 'Invalid value: "fd00::1": must be a valid IPv4 address',
    },
    {
      name: 'an unspecified address',
      body: 'addressType: IPv4\nendpoints: [{addresses: [0.0.0.0]}]\n',
      path: 'endpoints[0].addresses[0]',
      message: 'Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)',
    },
    {
      name: 'a single-label FQDN',
      body: 'addressType: FQDN\nendpoints: [{addresses: [localhost]}]\n',
      path: 'endpoints[0].addresses[0]',
      message: 'should be a domain with at least two segments separated by dots',
    },
    {
      name: 'duplicate port names',
      body: 'addressType: IPv4\nports: [{name: http, port: 80}, {name: http, port: 81}]\n',
      path: 'ports[1].name',
      message: 'Duplicate value: "http"',
    },
    {
      name: 'unsupported port protocol',
      body: 'addressType: IPv4\nports: [{name: a, port: 80, protocol: HTTP}]\n',
      path: 'ports[0].protocol',
      message: 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    },
    {
      name: 'appProtocol not a qualified name',
      body: 'addressType: IPv4\nports: [{name: a, port: 80, appProtocol: "h2c!"}]\n',
      path: 'ports[0].appProtocol',
      message: 'Invalid value: "h2c!": name part must consist of',
    },
    { name: 'conditions misspelt', body: 'addressType: IPv4\nendpoints: [{addresses: [10.0.0.1], condition: {ready: true}}]\n', path: 'endpoints[0].condition', message: 'unknown field "condition"' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(es(c.body), K, [{ path: c.path, message: c.message }]));
});
