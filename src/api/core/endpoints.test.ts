import { describe, it } from 'node:test';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { ENDPOINTS } from './endpoints.js';

const K = [ENDPOINTS];
const ep = (subsets: string): string => `apiVersion: v1\nkind: Endpoints\nmetadata: {name: reviews, namespace: default}\nsubsets:\n${subsets}`;

describe('Endpoints', () => {
  it('accepts endpoints of a selector-less service and an empty object', () => {
    expectValid(ep('- addresses: [{ip: 192.0.2.42}]\n  ports: [{port: 9376}]\n'), K);
    expectValid('apiVersion: v1\nkind: Endpoints\nmetadata: {name: reviews}\n', K);
  });

  it('accepts endpoints as the controller writes them (full-featured)', () => {
    expectValid(
      ep(
        [
          '- addresses:',
          '  - {ip: 10.244.1.7, hostname: reviews-0, nodeName: kind-worker, targetRef: {kind: Pod, name: reviews-v1-abc, namespace: default, uid: u1, resourceVersion: "7"}}',
          '  - {ip: "fd00::7"}',
          '  notReadyAddresses:',
          '  - {ip: 10.244.2.9, targetRef: {kind: Pod, name: reviews-v2-def, namespace: default}}',
          '  ports:',
          '  - {name: http, port: 9080, protocol: TCP, appProtocol: http}',
          '  - {name: grpc, port: 9090, protocol: TCP, appProtocol: kubernetes.io/h2c}',
          '',
        ].join('\n'),
      ),
      K,
    );
  });

  const invalid: { name: string; subsets: string; path: string; message: string }[] = [
    { name: 'a subset without addresses', subsets: '- ports: [{port: 80}]\n', path: 'subsets[0]', message: 'Required value: must specify `addresses` or `notReadyAddresses`' },
    {
      name: 'an invalid IP',
      subsets: '- addresses: [{ip: 10.0.0}]\n',
      path: 'subsets[0].addresses[0].ip',
      message: 'Invalid value: "10.0.0": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    },
    {
      name: 'a loopback IP',
      subsets: '- addresses: [{ip: 127.0.0.1}]\n',
      path: 'subsets[0].addresses[0].ip',
      message: 'Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    },
    {
      name: 'a link-local IP',
      subsets: '- notReadyAddresses: [{ip: 169.254.169.254}]\n',
      path: 'subsets[0].notReadyAddresses[0].ip',
      message: 'may not be in the link-local range (169.254.0.0/16, fe80::/10)',
    },
    { name: 'unnamed port among several', subsets: '- addresses: [{ip: 10.0.0.1}]\n  ports: [{port: 80, name: a}, {port: 81}]\n', path: 'subsets[0].ports[1].name', message: 'Required value' },
    {
      name: 'port out of range',
      subsets: '- addresses: [{ip: 10.0.0.1}]\n  ports: [{port: 0}]\n',
      path: 'subsets[0].ports[0].port',
      message: 'Invalid value: 0: must be between 1 and 65535, inclusive',
    },
    {
      name: 'unsupported protocol',
      subsets: '- addresses: [{ip: 10.0.0.1}]\n  ports: [{port: 80, protocol: ICMP}]\n',
      path: 'subsets[0].ports[0].protocol',
      message: 'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    },
    {
      name: 'hostname not a DNS label',
      subsets: '- addresses: [{ip: 10.0.0.1, hostname: a.b}]\n',
      path: 'subsets[0].addresses[0].hostname',
      message: 'Invalid value: "a.b": a lowercase RFC 1123 label must consist of',
    },
    { name: 'a spec (Endpoints has none)', subsets: '- addresses: [{ip: 10.0.0.1}]\nspec: {}\n', path: 'spec', message: 'unknown field "spec"' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(ep(c.subsets), K, [{ path: c.path, message: c.message }]));
});
