// SDS secrets for gateways (Istio's pilot/pkg/xds/sds.go, pilot/pkg/credentials/kube/secrets.go): a router
// whose Gateway servers name `credentialName`s gets `kubernetes://<name>` (and `-cacert` for MUTUAL) Secrets
// built from the Kubernetes Secrets, under the very names its listeners ask for; what cannot be served is
// reported, naming the Gateway, server and credential, without ever quoting a secret value.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { translate } from '../../../src/translate/translate.js';
import type { ProxyResources } from '../../../src/translate/resources.js';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema, type CommonTlsContext } from '../../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { Secret } from '../../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { assertGolden, dumpResources } from '../../support/golden.js';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../../support/mesh.js';
import { redactBytes, secretYaml, selfSigned } from './certs.js';

const GW: TestProxyOptions = { type: 'router', name: 'istio-ingressgateway-0', namespace: 'istio-system', ip: '10.1.0.200', labels: { istio: 'ingressgateway' } };
const SENSITIVE = 'hunter2-do-not-print';

function gateway(name: string, servers: string, ns = 'istio-system'): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {istio: ingressgateway}
  servers:
${servers}
---
`;
}

function https(name: string, host: string, tls: string): string {
  return `  - port: {number: 443, name: ${name}, protocol: HTTPS}
    hosts: [${host}]
    tls: ${tls}`;
}

const web = selfSigned('bookinfo.example.com');
const secure = selfSigned('secure.example.com');
const ca = selfSigned('client-ca.example.com');

const SERVERS = [
  https('https-bookinfo', 'bookinfo.example.com', '{mode: SIMPLE, credentialName: bookinfo-credential}'),
  https('https-secure', 'secure.example.com', '{mode: MUTUAL, credentialName: secure-credential}'),
  https('https-split', 'split.example.com', '{mode: MUTUAL, credentialName: split-credential}'),
  https('https-missing', 'missing.example.com', '{mode: SIMPLE, credentialName: missing-credential}'),
  https('https-wrong-keys', 'wrong.example.com', '{mode: SIMPLE, credentialName: wrong-keys}'),
  https('https-no-ca', 'noca.example.com', '{mode: MUTUAL, credentialName: bookinfo-credential-noca}'),
].join('\n');

const SECRETS = [
  secretYaml('istio-system', 'bookinfo-credential', { 'tls.crt': web.cert, 'tls.key': web.key }),
  // Istio's generic layout: cert / key / cacert in one Secret.
  secretYaml('istio-system', 'secure-credential', { cert: secure.cert, key: secure.key, cacert: ca.cert }, 'Opaque'),
  // The CA in its own `<name>-cacert` Secret, which Istio prefers over the certificate's own ca.crt.
  secretYaml('istio-system', 'split-credential', { 'tls.crt': secure.cert, 'tls.key': secure.key, 'ca.crt': web.cert }),
  secretYaml('istio-system', 'split-credential-cacert', { 'ca.crt': ca.cert }, 'Opaque'),
  secretYaml('istio-system', 'wrong-keys', { username: 'admin', password: SENSITIVE }, 'Opaque'),
  secretYaml('istio-system', 'bookinfo-credential-noca', { 'tls.crt': web.cert, 'tls.key': web.key }),
].join('');

const LABELS = {
  'tls.crt of bookinfo.example.com': web.cert,
  'tls.key of bookinfo.example.com': web.key,
  'cert of secure.example.com': secure.cert,
  'key of secure.example.com': secure.key,
  'client CA': ca.cert,
};

function resourcesFor(yaml: string, proxy: TestProxyOptions = GW): ProxyResources {
  return translate(meshFromYaml(yaml).snapshot, testProxy(proxy));
}

function secretNamed(res: ProxyResources, name: string): Secret {
  const s = res.secrets.find((x) => x.name === name);
  assert.ok(s, `no Secret ${name}; have ${res.secrets.map((x) => x.name).join(', ')}`);
  return s;
}

/** Every SDS name a TLS context asks the control plane (ADS) for. */
function adsNames(common: CommonTlsContext | undefined): string[] {
  if (common === undefined) return [];
  const v = common.validationContextType;
  const configs = [...common.tlsCertificateSdsSecretConfigs, ...(v.case === 'combinedValidationContext' && v.value.validationContextSdsSecretConfig ? [v.value.validationContextSdsSecretConfig] : [])];
  return configs.filter((c) => c.sdsConfig?.configSourceSpecifier.case === 'ads').map((c) => c.name);
}

/** The SDS names Envoy would request over ADS for the listeners and clusters (its SDS subscriptions). */
function requestedSecrets(res: ProxyResources): Set<string> {
  const out = new Set<string>();
  for (const l of res.listeners) {
    for (const fc of l.filterChains) {
      const cfg = fc.transportSocket?.configType;
      const ctx = cfg?.case === 'typedConfig' ? anyUnpack(cfg.value, DownstreamTlsContextSchema) : undefined;
      for (const n of adsNames(ctx?.commonTlsContext)) out.add(n);
    }
  }
  for (const c of res.clusters) {
    for (const ts of [c.transportSocket, ...c.transportSocketMatches.map((m) => m.transportSocket)]) {
      const cfg = ts?.configType;
      const ctx = cfg?.case === 'typedConfig' ? anyUnpack(cfg.value, UpstreamTlsContextSchema) : undefined;
      for (const n of adsNames(ctx?.commonTlsContext)) out.add(n);
    }
  }
  return out;
}

describe('gateway secrets: credentialName', () => {
  const res = resourcesFor(gateway('web', SERVERS) + SECRETS);

  it('golden: Secrets (certificate bytes labelled) and the issues for what could not be served', () => {
    assertGolden('secret/gateway-credentials', { secrets: redactBytes(dumpResources(res).secrets, LABELS), issues: res.issues });
  });

  it('serves exactly the names the listeners ask for, except those that cannot be served', () => {
    const requested = requestedSecrets(res);
    const served = new Set(res.secrets.map((s) => s.name));
    assert.deepEqual([...served].filter((n) => !requested.has(n)), [], 'served but never requested');
    assert.deepEqual(
      [...requested].filter((n) => !served.has(n)).sort(),
      ['kubernetes://bookinfo-credential-noca-cacert', 'kubernetes://missing-credential', 'kubernetes://wrong-keys'],
    );
    assert.deepEqual(res.secrets.map((s) => s.name), [...served].sort(), 'sorted by name');
  });

  it('carries tls.crt and tls.key as inline bytes of the certificate chain and private key', () => {
    const s = secretNamed(res, 'kubernetes://bookinfo-credential');
    assert.equal(s.type.case, 'tlsCertificate');
    const tc = s.type.case === 'tlsCertificate' ? s.type.value : undefined;
    assert.deepEqual(Buffer.from(tc?.certificateChain?.specifier.value as Uint8Array), web.cert);
    assert.deepEqual(Buffer.from(tc?.privateKey?.specifier.value as Uint8Array), web.key);
  });

  it('MUTUAL validates clients against the -cacert Secret when there is one, else the credential`s own CA', () => {
    const trusted = (name: string): Buffer => {
      const s = secretNamed(res, name);
      assert.equal(s.type.case, 'validationContext');
      return Buffer.from((s.type.case === 'validationContext' ? s.type.value.trustedCa?.specifier.value : undefined) as Uint8Array);
    };
    assert.deepEqual(trusted('kubernetes://split-credential-cacert'), ca.cert);
    assert.deepEqual(trusted('kubernetes://secure-credential-cacert'), ca.cert);
  });

  it('reports a missing Secret in Istio`s words, naming Gateway, server and credential', () => {
    assert.ok(
      res.issues.some(
        (i) =>
          i.path === 'Gateway istio-system/web spec.servers[3].tls.credentialName' &&
          i.message === 'failed to fetch key and certificate for kubernetes://missing-credential: secret istio-system/missing-credential not found (server 443 "https-missing" of Gateway istio-system/web)',
      ),
      JSON.stringify(res.issues, null, 2),
    );
  });

  it('names the keys of a Secret without the expected ones, never their values', () => {
    const i = res.issues.find((x) => x.path === 'Gateway istio-system/web spec.servers[4].tls.credentialName');
    assert.match(i?.message ?? '', /didn't have expected keys \(cert and key\) or \(tls\.crt and tls\.key\); found: password, username/);
    for (const x of res.issues) assert.ok(!x.message.includes(SENSITIVE) && !x.message.includes(Buffer.from(SENSITIVE).toString('base64')), x.message);
  });
});

describe('gateway secrets: where Istio looks', () => {
  it('a Secret beside a Gateway in another namespace than the gateway workload is not used, and the issue says why', () => {
    const res = resourcesFor(gateway('web', https('https', 'a.example.com', '{mode: SIMPLE, credentialName: a-credential}'), 'default') + secretYaml('default', 'a-credential', { 'tls.crt': web.cert, 'tls.key': web.key }));
    assert.deepEqual(res.secrets, []);
    const i = res.issues.find((x) => x.path === 'Gateway default/web spec.servers[0].tls.credentialName');
    assert.match(i?.message ?? '', /secret istio-system\/a-credential not found .*must be in the namespace of the gateway workload \(istio-system\), not of the Gateway \(default\)/);
  });

  it('a credential naming another namespace is refused', () => {
    const res = resourcesFor(gateway('web', https('https', 'a.example.com', '{mode: SIMPLE, credentialName: "kubernetes://default/a-credential"}')) + secretYaml('default', 'a-credential', { 'tls.crt': web.cert, 'tls.key': web.key }));
    assert.deepEqual(res.secrets, []);
    assert.match(res.issues.find((x) => x.path.startsWith('Gateway istio-system/web'))?.message ?? '', /cross namespace secret reference requires ReferenceGrant/);
  });

  it('a sidecar gets no gateway secrets', () => {
    const yaml = gateway('web', https('https', 'a.example.com', '{mode: SIMPLE, credentialName: bookinfo-credential}')) + SECRETS;
    const res = resourcesFor(yaml, { name: 'app-0', namespace: 'istio-system', ip: '10.1.0.9', labels: { app: 'x' } });
    assert.deepEqual(res.secrets, []);
  });

  it('a certificate that is not PEM is still served (as Istio does) and reported', () => {
    const res = resourcesFor(gateway('web', https('https', 'a.example.com', '{mode: SIMPLE, credentialName: bad-pem}')) + secretYaml('istio-system', 'bad-pem', { 'tls.crt': 'not a certificate', 'tls.key': web.key }));
    assert.deepEqual(res.secrets.map((s) => s.name), ['kubernetes://bad-pem']);
    assert.ok(res.issues.some((i) => i.path === 'Secret istio-system/bad-pem' && i.message === 'invalid certificates: istio-system/bad-pem "kubernetes://bad-pem": pem decode failed'), JSON.stringify(res.issues));
  });
});

describe('DestinationRule credentialName (TLS origination)', () => {
  const SE = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: istio-system}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
  location: MESH_EXTERNAL
---
`;
  const dr = (selector = ''): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api, namespace: istio-system}
spec:
  host: api.example.com
${selector}  trafficPolicy:
    tls: {mode: MUTUAL, credentialName: client-credential, sni: api.example.com}
---
`;
  const CLIENT = secretYaml('istio-system', 'client-credential', { 'tls.crt': secure.cert, 'tls.key': secure.key, 'ca.crt': ca.cert });

  it('an egress gateway gets the client certificate and the CA its cluster asks for', () => {
    const res = resourcesFor(SE + dr() + CLIENT);
    assert.deepEqual(res.secrets.map((s) => s.name), ['kubernetes://client-credential', 'kubernetes://client-credential-cacert']);
    assert.deepEqual([...requestedSecrets(res)].sort(), res.secrets.map((s) => s.name));
  });

  it('a sidecar selected by the rule gets the CA bundle but not the key, and is told why', () => {
    const res = resourcesFor(SE + dr('  workloadSelector: {matchLabels: {app: client}}\n') + CLIENT, { name: 'client-0', namespace: 'istio-system', ip: '10.1.0.9', labels: { app: 'client' } });
    assert.deepEqual(res.secrets.map((s) => s.name), ['kubernetes://client-credential-cacert']);
    assert.ok(res.issues.some((i) => i.path === 'DestinationRule istio-system/api' && /unauthorized certificate kubernetes:\/\/client-credential .*only gateways/.test(i.message)), JSON.stringify(res.issues));
  });
});
