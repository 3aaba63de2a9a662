// How `x describe` words VirtualService match conditions and faults: istioctl's renderMatch for URIs and
// headers, and the other conditions in the same style.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HTTPFaultInjection, HTTPMatchRequest, L4MatchAttributes, TLSMatchAttributes } from '../../api/networking/virtual-service.js';
import { renderFault, renderHttpMatch, renderL4Match } from './match-text.js';

describe('renderHttpMatch', () => {
  const cases: { name: string; match: HTTPMatchRequest; want: string }[] = [
    { name: 'exact URI', match: { uri: { exact: '/productpage' } }, want: '/productpage' },
    { name: 'prefix URI, uncased', match: { uri: { prefix: '/api' }, ignoreUriCase: true }, want: '/api* uncased' },
    { name: 'regex URI', match: { uri: { regex: '^/v[0-9]+' } }, want: 'regex:"^/v[0-9]+"' },
    { name: 'headers, sorted', match: { headers: { 'x-b': { prefix: 'b' }, 'end-user': { exact: 'jason' } } }, want: 'when headers are end-user=jason; x-b=b*' },
    { name: 'method and query parameters', match: { method: { exact: 'GET' }, queryParams: { debug: { exact: '1' } } }, want: 'method GET when query params are debug=1' },
    { name: 'port, source labels and namespace', match: { port: 9080, sourceLabels: { version: 'v1', app: 'productpage' }, sourceNamespace: 'shop' }, want: 'on port 9080 from workloads app=productpage,version=v1 from namespace shop' },
    { name: 'without headers', match: { withoutHeaders: { 'x-canary': { exact: 'true' } } }, want: 'without headers x-canary=true' },
    { name: 'nothing set', match: {}, want: 'everything' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(renderHttpMatch(c.match), c.want));
});

describe('renderL4Match', () => {
  const cases: { name: string; match: L4MatchAttributes | TLSMatchAttributes; want: string }[] = [
    { name: 'port', match: { port: 27017 }, want: 'on port 27017' },
    { name: 'SNI', match: { sniHosts: ['a.example.com', 'b.example.com'], port: 443 }, want: 'SNI a.example.com,b.example.com on port 443' },
    { name: 'subnets', match: { destinationSubnets: ['10.0.0.0/8'], sourceSubnet: '192.168.0.0/16' }, want: 'to 10.0.0.0/8 from 192.168.0.0/16' },
    { name: 'nothing set', match: {}, want: 'everything' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(renderL4Match(c.match), c.want));
});

describe('renderFault', () => {
  const cases: { name: string; fault: HTTPFaultInjection | undefined; want: string | undefined }[] = [
    { name: 'none', fault: undefined, want: undefined },
    { name: 'abort, every request when no percentage', fault: { abort: { httpStatus: 500 } }, want: 'abort 500 (100%)' },
    { name: 'delay with a percentage', fault: { delay: { fixedDelay: '7s', percentage: { value: 10 } } }, want: 'delay 7s (10%)' },
    { name: 'delay with the legacy percent, and a gRPC abort', fault: { delay: { fixedDelay: '1s', percent: 50 }, abort: { grpcStatus: 'UNAVAILABLE', percentage: { value: 0.5 } } }, want: 'delay 1s (50%), abort grpc UNAVAILABLE (0.5%)' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(renderFault(c.fault), c.want));
});
