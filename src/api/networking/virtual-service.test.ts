import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { createKindRegistry } from '../kind.js';
import { loadText } from '../load.js';
import { validateObject } from '../validate.js';
import { effectiveGateways, unreachableRules, VIRTUAL_SERVICE, VirtualServiceSpecSchema, type VirtualService } from './virtual-service.js';

const K = [VIRTUAL_SERVICE];
const vs = (spec: string, meta = '{name: reviews, namespace: default}', version = 'v1'): string =>
  `apiVersion: networking.istio.io/${version}\nkind: VirtualService\nmetadata: ${meta}\nspec:\n${spec}`;
const route = (host = 'reviews'): string => `  - route:\n    - destination: {host: ${host}}\n`;

const BOOKINFO = new URL('../../../../shared/corpus/istio-bookinfo/networking/', import.meta.url);

describe('VirtualService: Bookinfo samples', () => {
  const files = readdirSync(fileURLToPath(BOOKINFO)).filter((f) => f.startsWith('virtual-service-') && f.endsWith('.yaml'));
  it('finds the Bookinfo VirtualServices', () => assert.ok(files.length >= 10, `only ${files.length} files`));
  for (const f of files) {
    it(`accepts ${f} without warnings`, () => {
      const loaded = loadText(readFileSync(new URL(f, BOOKINFO), 'utf8'), f);
      assert.deepEqual(loaded.problems, []);
      for (const d of loaded.documents) {
        const out = validateObject(d.raw, createKindRegistry(K));
        assert.ok(out.ok, `${f}: ${out.ok ? '' : out.issues.map((i) => `${i.path}: ${i.message}`).join('\n')}`);
        assert.deepEqual(out.warnings, []);
      }
    });
  }
});

describe('VirtualService', () => {
  it('accepts the served versions and short, FQDN and wildcard hosts', () => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) expectValid(vs(`  hosts: [reviews]\n  http:\n${route()}`, undefined, v), K);
    expectValid(vs(`  hosts: [reviews.prod.svc.cluster.local, "*.example.com", Upper.Example.COM]\n  http:\n${route()}`), K);
  });

  it('accepts a gateway-bound VirtualService with host * and namespace/name gateways', () => {
    expectValid(vs(`  hosts: ["*"]\n  gateways: [istio-system/ingress, mygw]\n  http:\n${route()}`), K);
  });

  it('accepts a delegate (no hosts) and a root that delegates to it', () => {
    expectValid(vs(`  http:\n  - match: [{uri: {prefix: /productpage}}]\n    route:\n    - destination: {host: productpage}\n`), K);
    expectValid(
      vs(`  hosts: [bookinfo.com]\n  gateways: [bookinfo-gateway]\n  http:\n  - match: [{uri: {prefix: /productpage}}]\n    delegate: {name: productpage, namespace: nsA}\n`),
      K,
    );
  });

  it('accepts TLS passthrough and TCP routes (Istio docs)', () => {
    expectValid(
      vs(
        `  hosts: ["*.bookinfo.com"]\n  gateways: [mygateway]\n  tls:\n  - match:\n    - port: 443\n      sniHosts: [login.bookinfo.com]\n    route:\n    - destination: {host: login.prod.svc.cluster.local}\n  - match:\n    - port: 443\n      sniHosts: [reviews.bookinfo.com]\n    route:\n    - destination: {host: reviews.prod.svc.cluster.local}\n`,
      ),
      K,
    );
    expectValid(
      vs(
        `  hosts: [mongo.prod.svc.cluster.local]\n  tcp:\n  - match:\n    - port: 27017\n      destinationSubnets: [10.0.0.0/8]\n      sourceLabels: {app: reviews}\n    route:\n    - destination:\n        host: mongo.backup.svc.cluster.local\n        port: {number: 5555}\n`,
      ),
      K,
    );
  });

  it('accepts Istio AUTO_PASSTHROUGH SNI names on a gateway', () => {
    const sniName = 'outbound_.15010_._.istiod.istio-system.svc.cluster.local';
    expectValid(vs(`  hosts: [${sniName}]\n  gateways: [ns1/gateway]\n  tls:\n  - match: [{sniHosts: [${sniName}]}]\n    route:\n    - destination: {host: istiod.istio-system.svc.cluster.local}\n`), K);
  });

  it('validates a realistic full-featured resource', () => {
    const w = expectValid(
      vs(`  hosts: [reviews.prod.svc.cluster.local, reviews.example.com]
  gateways: [mesh, istio-system/public]
  exportTo: [".", istio-system]
  http:
  - name: reviews-v2-routes
    match:
    - name: v2-prefix
      uri: {prefix: /wpcatalog}
      method: {exact: GET}
      headers:
        end-user: {exact: jason}
        x-canary: {regex: "^(true|yes)$"}
      queryParams:
        debug: {exact: "1"}
      withoutHeaders:
        x-skip: {regex: "*"}
      ignoreUriCase: true
      port: 9080
      sourceLabels: {app: productpage, version: v1}
      sourceNamespace: bookinfo
      gateways: [mesh]
      statPrefix: v2
    - uri: {regex: "^/consumer(/.*)?$"}
    rewrite:
      uriRegexRewrite: {match: "^/consumer(/.*)?$", rewrite: "/newcatalog\\\\1"}
    route:
    - destination: {host: reviews.prod.svc.cluster.local, subset: v2, port: {number: 9080}}
      weight: 80
      headers:
        request: {set: {x-version: v2}}
        response: {remove: [x-internal]}
    - destination: {host: reviews.prod.svc.cluster.local, subset: v3}
      weight: 20
    timeout: 10s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,connect-failure,503", retryRemoteLocalities: true, retryIgnorePreviousHosts: false, backoff: 25ms}
    fault:
      delay: {fixedDelay: 5s, percentage: {value: 0.1}}
      abort: {httpStatus: 503, percentage: {value: 0.1}}
    mirrors:
    - destination: {host: reviews-shadow.prod.svc.cluster.local}
      percentage: {value: 50}
    corsPolicy:
      allowOrigins: [{exact: "https://example.com"}, {regex: "https://.*\\\\.example\\\\.org"}]
      allowMethods: [POST, GET]
      allowHeaders: [X-Foo-Bar]
      exposeHeaders: [X-Request-Id]
      maxAge: 24h
      allowCredentials: false
      unmatchedPreflights: IGNORE
    headers:
      request:
        set: {x-forwarded-proto: "%DOWNSTREAM_LOCAL_ADDRESS%", host: reviews.example.com}
        add: {x-percent: "100%%"}
        remove: [x-legacy]
      response:
        add: {x-served-by: isthmus}
  - name: legacy-redirect
    match: [{uri: {prefix: /old}}]
    redirect: {uri: /new, authority: newreviews.example.com, derivePort: FROM_REQUEST_PORT, scheme: https, redirectCode: 308}
  - name: grpc-abort
    match: [{uri: {prefix: /grpc.Reviews/}}]
    fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
    route: [{destination: {host: reviews.prod.svc.cluster.local}}]
    mirror: {host: reviews-shadow.prod.svc.cluster.local}
    mirrorPercentage: {value: 5.5}
  - name: maintenance
    match: [{uri: {exact: /maintenance}}]
    directResponse: {status: 503, body: {string: "down for maintenance"}}
  - name: default
    route: [{destination: {host: reviews.prod.svc.cluster.local, subset: v1}}]
`),
      K,
    );
    assert.deepEqual(w, []);
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'no routes at all', spec: '  hosts: [reviews]\n', path: 'spec', message: 'http, tcp or tls must be provided in virtual service' },
    { name: 'a bad host', spec: `  hosts: [foo.*.com]\n  http:\n${route()}`, path: 'spec.hosts[0]', message: 'domain name "*.com" invalid (label "*" invalid)' },
    { name: 'an all-numeric TLD', spec: `  hosts: [foo.123]\n  http:\n${route()}`, path: 'spec.hosts[0]', message: 'domain name "123" invalid (top level domain "123" cannot be all-numeric)' },
    { name: 'host * for the mesh', spec: `  hosts: ["*"]\n  http:\n${route()}`, path: 'spec.hosts[0]', message: 'wildcard host * is not allowed for virtual services bound to the mesh gateway' },
    { name: 'host * with mesh among gateways', spec: `  hosts: ["*"]\n  gateways: [mesh, ns/gw]\n  http:\n${route()}`, path: 'spec.hosts[0]', message: 'wildcard host * is not allowed for virtual services bound to the mesh gateway' },
    { name: 'literal duplicate hosts', spec: `  hosts: [a.com, a.com]\n  http:\n${route()}`, path: 'spec.hosts[1]', message: 'duplicate hosts in virtual service: a.com & a.com' },
    { name: 'wildcard duplicate hosts', spec: `  hosts: ["*.foo.com", "*.com"]\n  http:\n${route()}`, path: 'spec.hosts[1]', message: 'duplicate hosts in virtual service: *.foo.com & *.com' },
    { name: 'a delegate with gateways', spec: `  gateways: [ns/gw]\n  http:\n${route()}`, path: 'spec.gateways', message: 'delegate virtual service must have no gateways specified' },
    { name: 'a delegate with tcp', spec: `  tcp:\n${route()}`, path: 'spec.tcp', message: 'delegate virtual service must have no tcp route specified' },
    { name: 'a delegate with tls', spec: `  tls:\n  - match: [{sniHosts: [a.com]}]\n    route: [{destination: {host: a}}]\n`, path: 'spec.tls', message: 'delegate virtual service must have no tls route specified' },
    { name: 'a delegate that delegates', spec: '  http:\n  - delegate: {name: other}\n', path: 'spec.http[0].delegate', message: 'delegate HTTP route cannot contain delegate' },
    { name: 'ns/* gateway', spec: `  hosts: [a.com]\n  gateways: [ns1/*]\n  http:\n${route()}`, path: 'spec.gateways[0]', message: 'invalid value for gateway name: "*"' },
    { name: '*/name gateway', spec: `  hosts: [a.com]\n  gateways: ["*/gw"]\n  http:\n${route()}`, path: 'spec.gateways[0]', message: 'invalid value for namespace: "*"' },
    { name: 'empty gateway namespace', spec: `  hosts: [a.com]\n  gateways: [/gw]\n  http:\n${route()}`, path: 'spec.gateways[0]', message: 'config namespace and gateway name cannot be empty' },
    { name: 'a bad FQDN gateway', spec: `  hosts: [a.com]\n  gateways: [gw_1]\n  http:\n${route()}`, path: 'spec.gateways[0]', message: 'domain name "gw_1" invalid (label "gw_1" invalid)' },
    { name: 'JWT claim routing on the mesh', spec: '  hosts: [a.com]\n  http:\n  - match: [{headers: {"@request.auth.claims.group": {exact: admin}}}]\n    route: [{destination: {host: a}}]\n', path: 'spec.http[0].match[0].headers["@request.auth.claims.group"]', message: 'JWT claim based routing (key: @request.auth.claims.group) is only supported for gateway, found no gateways: []' },
    { name: 'a TCP rule without route', spec: '  hosts: [a.com]\n  tcp:\n  - match: [{port: 80}]\n', path: 'spec.tcp[0].route', message: 'TCP route is required' },
    { name: 'a bad TCP subnet', spec: '  hosts: [a.com]\n  tcp:\n  - match: [{destinationSubnets: [10.0.0.0/33]}]\n    route: [{destination: {host: a}}]\n', path: 'spec.tcp[0].match[0].destinationSubnets[0]', message: '10.0.0.0/33 is not a valid CIDR block' },
    { name: 'a TCP match port out of range', spec: '  hosts: [a.com]\n  tcp:\n  - match: [{port: 70000}]\n    route: [{destination: {host: a}}]\n', path: 'spec.tcp[0].match[0].port', message: 'port number 70000 must be in the range 1..65535' },
    { name: 'a bad source label value', spec: '  hosts: [a.com]\n  tcp:\n  - match: [{sourceLabels: {app: "-bad"}}]\n    route: [{destination: {host: a}}]\n', path: 'spec.tcp[0].match[0].sourceLabels.app', message: 'invalid tag value: "-bad"' },
    { name: 'a bad source label key', spec: '  hosts: [a.com]\n  tcp:\n  - match: [{sourceLabels: {"a b": x}}]\n    route: [{destination: {host: a}}]\n', path: 'spec.tcp[0].match[0].sourceLabels["a b"]', message: 'invalid tag key: "a b"' },
    { name: 'TCP total weight 0', spec: '  hosts: [a.com]\n  tcp:\n  - route: [{destination: {host: a}}, {destination: {host: b}}]\n', path: 'spec.tcp[0].route', message: 'total destination weight = 0' },
    { name: 'a TLS rule without match', spec: '  hosts: [a.com]\n  tls:\n  - route: [{destination: {host: a}}]\n', path: 'spec.tls[0].match', message: 'TLS route must have at least one match condition' },
    { name: 'a TLS match without SNI hosts', spec: '  hosts: [a.com]\n  tls:\n  - match: [{port: 443}]\n    route: [{destination: {host: a}}]\n', path: 'spec.tls[0].match[0].sniHosts', message: 'TLS match must have at least one SNI host' },
    { name: 'a TLS rule without route', spec: '  hosts: [a.com]\n  tls:\n  - match: [{sniHosts: [a.com]}]\n', path: 'spec.tls[0].route', message: 'TLS route is required' },
    { name: 'an SNI host outside the hosts', spec: '  hosts: ["*.bookinfo.com"]\n  gateways: [gw]\n  tls:\n  - match: [{sniHosts: [login.example.com]}]\n    route: [{destination: {host: a}}]\n', path: 'spec.tls[0].match[0].sniHosts[0]', message: 'SNI host "login.example.com" is not a compatible subset of any of the virtual service hosts: [*.bookinfo.com]' },
    { name: 'an invalid wildcard SNI host', spec: '  hosts: [foo.bar]\n  tls:\n  - match: [{port: 999, sniHosts: [foo.*.com]}]\n    route: [{destination: {host: foo.baz}}]\n', path: 'spec.tls[0].match[0].sniHosts[0]', message: 'domain name "*.com" invalid (label "*" invalid)' },
    { name: 'exportTo ~', spec: `  hosts: [a.com]\n  exportTo: ["~"]\n  http:\n${route()}`, path: 'spec.exportTo', message: 'exportTo ~ (none) is not allowed for Istio configuration objects' },
    { name: 'exportTo . and own namespace', spec: `  hosts: [a.com]\n  exportTo: [default, "."]\n  http:\n${route()}`, path: 'spec.exportTo', message: 'duplicate entries in exportTo: . and current namespace default' },
    { name: 'exportTo own namespace twice', spec: `  hosts: [a.com]\n  exportTo: [".", default]\n  http:\n${route()}`, path: 'spec.exportTo', message: 'duplicate entries in exportTo for entry default' },
    { name: 'an unknown field', spec: `  host: [a.com]\n  http:\n${route()}`, path: 'spec.host', message: 'unknown field "host"' },
    { name: 'a TLS match sourceSubnet (not in the API)', spec: '  hosts: [a.com]\n  tls:\n  - match: [{sniHosts: [a.com], sourceSubnet: 10.0.0.0/8}]\n    route: [{destination: {host: a}}]\n', path: 'spec.tls[0].match[0].sourceSubnet', message: 'unknown field "sourceSubnet"' },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(vs(c.spec), K, [{ path: c.path, message: c.message }]);
    });

  it('warns about an IP address as SNI host, and legacy gateway names', () => {
    const w = expectValid(vs('  hosts: [foo.bar]\n  tls:\n  - match: [{port: 999, sniHosts: [1.1.1.1]}]\n    route: [{destination: {host: foo.baz}}]\n'), K);
    assert.deepEqual(w.map((i) => [i.path, i.message]), [['spec.tls[0].match[0].sniHosts[0]', 'using an IP address ("1.1.1.1") goes against SNI spec and most clients do not support this']]);
    const g = expectValid(vs(`  hosts: [a.com]\n  gateways: [gw.istio-system]\n  http:\n${route()}`), K);
    assert.deepEqual(g.map((i) => [i.path, i.message]), [['spec.gateways[0]', 'using legacy gatewayName format "gw.istio-system"; prefer the <namespace>/<name> format: "istio-system/gw"']]);
  });

  it('accepts IP addresses as hosts', () => {
    expectValid(vs(`  hosts: [10.1.2.3]\n  http:\n${route()}`), K);
  });

  it('reports every problem at once, structural and semantic', () => {
    const issues = expectInvalid(vs('  hosts: ["*"]\n  http:\n  - route: [{destination: {host: a}, weight: -1}]\n    timeout: 0s\n    extra: 1\n'), K, [
      { path: 'spec.hosts[0]', message: 'wildcard host * is not allowed' },
      { path: 'spec.http[0].extra', message: 'unknown field "extra"' },
      { path: 'spec.http[0].route[0].weight', message: 'weight -1 < 0' },
      { path: 'spec.http[0].timeout', message: 'duration must be greater than 1ms' },
    ]);
    assert.equal(issues.length, 4);
  });
});

describe('effectiveGateways', () => {
  const of = (gateways?: string[]): VirtualService =>
    ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'x' }, spec: gateways === undefined ? {} : { gateways } }) as VirtualService;
  it('defaults to mesh', () => {
    assert.deepEqual(effectiveGateways(of()), ['mesh']);
    assert.deepEqual(effectiveGateways(of([])), ['mesh']);
    assert.deepEqual(effectiveGateways(of(['ns/gw'])), ['ns/gw']);
  });
});

describe('unreachableRules', () => {
  const spec = (yaml: string): ReturnType<typeof VirtualServiceSpecSchema.parse> => {
    const loaded = loadText(yaml, 't.yaml');
    return VirtualServiceSpecSchema.parse(loaded.documents[0]?.raw);
  };
  const msgs = (yaml: string): string[] => unreachableRules(spec(yaml)).map((f) => f.message);

  it('finds a rule after a catch-all rule and a second catch-all', () => {
    const f = unreachableRules(spec('http:\n- route: [{destination: {host: a}}]\n- match: [{uri: {prefix: /a}}, {uri: {prefix: /b}}]\n  route: [{destination: {host: a}}]\n- route: [{destination: {host: b}}]\n'));
    assert.deepEqual(
      f.map((x) => [x.path, x.message]),
      [
        ['spec.http[1]', 'virtualService rule #1 not used (route without matches defined before)'],
        ['spec.http[1]', 'virtualService rule #1 not used (route without matches defined before)'],
        ['spec.http[2]', 'virtualService rule #2 not used (only the last rule can have no matches)'],
      ],
    );
    assert.equal(f[0]?.type, 'VirtualServiceUnreachableRule');
    assert.equal(f[0]?.reason, 'route without matches defined before');
  });

  it('finds duplicate matches, ignoring match names (Istio testdata dupmatches)', () => {
    const f = unreachableRules(
      spec(`http:
- name: send /api/v1/products to sample.foo
  match: [{name: prefix /api/v1/products, uri: {prefix: /api/v1/products}}]
  route: [{destination: {host: sample.foo.svc.cluster.local}}]
- name: send /api/v1/products to sample.bar
  match: [{uri: {prefix: /api/v1/products}}]
  route: [{destination: {host: sample.bar.svc.cluster.local}}]
`),
    );
    assert.deepEqual(
      f.map((x) => x.message),
      [
        'virtualService rule "send /api/v1/products to sample.bar" match #0 is not used (duplicate/overlapping match in rule "send /api/v1/products to sample.foo")',
        'virtualService rule "send /api/v1/products to sample.bar" not used (all matches used by prior rules)',
      ],
    );
    assert.deepEqual({ rule: f[0]?.rule, match: f[0]?.match, dupRule: f[0]?.dupRule, path: f[0]?.path }, {
      rule: '"send /api/v1/products to sample.bar"',
      match: '#0',
      dupRule: '"send /api/v1/products to sample.foo"',
      path: 'spec.http[1].match[0]',
    });
  });

  it('reports a partly duplicated rule only as an ineffective match', () => {
    assert.deepEqual(
      msgs('http:\n- match: [{uri: {prefix: /api}}]\n  route: [{destination: {host: a}}]\n- match: [{name: again, uri: {prefix: /api}}, {uri: {prefix: /potato}}]\n  route: [{destination: {host: b}}]\n'),
      ['virtualService rule #1 match "again" is not used (duplicate/overlapping match in rule #0)'],
    );
  });

  it('finds overlapping prefixes with the same method (GET by default)', () => {
    assert.deepEqual(
      msgs('http:\n- name: p\n  match: [{uri: {prefix: /api/v1/product}}, {uri: {prefix: /api/v1/products}, method: {exact: GET}}]\n  route: [{destination: {host: a}}]\n'),
      ['virtualService rule "p" match #1 of prefix /api/v1/products is not used (duplicate/overlapping match in rule #0 of prefix /api/v1/product on "p")'],
    );
    // Different methods, or an exact URI, do not overlap.
    assert.deepEqual(msgs('http:\n- match: [{uri: {prefix: /api/v1/prod}, method: {exact: GET}}]\n  route: [{destination: {host: a}}]\n- match: [{uri: {prefix: /api/v1/products}, method: {exact: POST}}]\n  route: [{destination: {host: a}}]\n'), []);
    assert.deepEqual(msgs('http:\n- match: [{uri: {prefix: /}}, {uri: {exact: /}, method: {exact: GET}}]\n  route: [{destination: {host: a}}]\n'), []);
  });

  it('treats an empty exact match as different from no match', () => {
    assert.deepEqual(msgs('http:\n- match: [{uri: {exact: ""}}]\n  route: [{destination: {host: a}}]\n- match: [{uri: {}}]\n  route: [{destination: {host: a}}]\n'), []);
    assert.deepEqual(msgs('http:\n- match: [{port: 80, ignoreUriCase: false}]\n  route: [{destination: {host: a}}]\n- match: [{port: 80}]\n  route: [{destination: {host: a}}]\n').length, 2);
  });

  it('analyzes TCP and TLS rules too', () => {
    assert.deepEqual(msgs('tcp:\n- match: [{port: 31400}]\n  route: [{destination: {host: a}}]\n- match: [{port: 31400}]\n  route: [{destination: {host: b}}]\n'), [
      'virtualService rule #1 match #0 is not used (duplicate/overlapping match in rule #0)',
      'virtualService rule #1 not used (all matches used by prior rules)',
    ]);
    assert.deepEqual(msgs('tls:\n- route: [{destination: {host: a}}]\n- route: [{destination: {host: b}}]\n'), ['virtualService rule #1 not used (only the last rule can have no matches)']);
  });

  it('surfaces the findings as validation warnings', () => {
    const w = expectValid(vs(`  hosts: [a.com]\n  http:\n${route('a')}${route('b')}`), K);
    assert.deepEqual(w.map((i) => [i.severity, i.path, i.message]), [['warning', 'spec.http[1]', 'virtualService rule #1 not used (only the last rule can have no matches)']]);
  });
});
