import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { loadText } from '../load.js';
import { createKindRegistry } from '../kind.js';
import { validateObject } from '../validate.js';
import { ISTIO_GATEWAY, isHttpsServer, isPassThroughServer, type Server } from './gateway.js';
import { parseProtocol } from './protocol.js';

const K = [ISTIO_GATEWAY];
const head = (spec: string, name = 'gw'): string =>
  `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: ${name}, namespace: istio-system}\nspec:\n${spec}`;
const httpServer = '  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*"]\n';

describe('Istio Gateway', () => {
  it('accepts the bookinfo and cert-manager gateways from the corpus', () => {
    const dir = fileURLToPath(new URL('../../../../shared/corpus/istio-bookinfo/networking/', import.meta.url));
    const registry = createKindRegistry(K);
    let seen = 0;
    for (const file of ['bookinfo-gateway.yaml', 'certmanager-gateway.yaml']) {
      const loaded = loadText(readFileSync(dir + file, 'utf8'), file);
      assert.equal(loaded.problems.length, 0);
      for (const doc of loaded.documents) {
        const raw = doc.raw as { kind?: unknown };
        if (raw.kind !== 'Gateway') continue;
        seen++;
        const out = validateObject(doc.raw, registry);
        assert.ok(out.ok, `${file}: ${out.ok ? '' : JSON.stringify(out.issues)}`);
        assert.equal(out.warnings.length, 0);
      }
    }
    assert.equal(seen, 2);
  });

  it('accepts the served versions v1, v1beta1 and v1alpha3', () => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3'])
      expectValid(`apiVersion: networking.istio.io/${v}\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  servers:\n${httpServer}`, K);
  });

  it('accepts realistic gateways from the Istio docs', () => {
    // https://istio.io/latest/docs/reference/config/networking/gateway/
    expectValid(
      head(`  selector: {app: my-gateway-controller}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [uk.bookinfo.com, eu.bookinfo.com]
    tls: {httpsRedirect: true}
  - port: {number: 443, name: https-443, protocol: HTTPS}
    hosts: [uk.bookinfo.com, eu.bookinfo.com]
    tls: {mode: SIMPLE, credentialName: bookinfo-secret}
  - port: {number: 9443, name: https-9443, protocol: HTTPS}
    hosts: ["bookinfo-namespace/*.bookinfo.com"]
    tls: {mode: SIMPLE, credentialName: bookinfo-secret}
  - port: {number: 9080, name: http-wildcard, protocol: HTTP}
    hosts: ["ns1/*", "./foo.example.com"]
  - port: {number: 2379, name: mongo, protocol: MONGO}
    hosts: ["*"]
`),
      K,
    );
    // TLS passthrough and mutual TLS with files.
    expectValid(
      head(`  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: tls, protocol: TLS}
    hosts: ["*.example.com"]
    tls: {mode: PASSTHROUGH}
  - port: {number: 8443, name: https-mtls, protocol: https}
    hosts: [secure.example.com]
    tls:
      mode: MUTUAL
      serverCertificate: /etc/certs/server.pem
      privateKey: /etc/certs/privatekey.pem
      caCertificates: /etc/certs/ca.pem
      minProtocolVersion: TLSV1_2
      maxProtocolVersion: TLSV1_3
      cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256, "-AES128-SHA"]
  - port: {number: 15443, name: tls-auto, protocol: TLS}
    hosts: ["*.local"]
    tls: {mode: AUTO_PASSTHROUGH}
  - port: {number: 0, name: uds, protocol: HTTP}
    bind: unix:///var/run/gw.sock
    hosts: ["*"]
  - port: {number: 8081, name: bound, protocol: HTTP}
    bind: 10.0.0.1
    hosts: ["10.0.0.1"]
`),
      K,
    );
  });

  it('validates a full-featured server with every field', () => {
    const w = expectValid(
      head(`  selector: {istio: ingressgateway}
  servers:
  - name: main
    port: {number: 443, name: https, protocol: HTTPS}
    bind: 0.0.0.0
    defaultEndpoint: 127.0.0.1:8080
    hosts: ["*/bookinfo.example.com"]
    tls:
      mode: OPTIONAL_MUTUAL
      tlsCertificates:
      - {serverCertificate: /c/rsa.pem, privateKey: /c/rsa.key, caCertificates: /c/ca.pem}
      - {serverCertificate: /c/ec.pem, privateKey: /c/ec.key}
      caCertificates: /c/ca.pem
      caCrl: /c/crl.pem
      caCertCredentialName: ca-secret
      subjectAltNames: [spiffe://cluster.local/ns/default/sa/client]
      verifyCertificateSpki: [abc]
      verifyCertificateHash: [def]
      minProtocolVersion: TLSV1_2
      maxProtocolVersion: TLSV1_3
      cipherSuites: [ECDHE-ECDSA-AES256-GCM-SHA384]
      insecureSkipVerify: false
      httpsRedirect: false
`),
      K,
    );
    assert.deepEqual(w, []);
  });

  const invalid: { name: string; spec: string; path: string; message: string; gwName?: string }[] = [
    { name: 'no servers', spec: '  selector: {istio: ingressgateway}\n', path: 'spec.servers', message: 'gateway must have at least one server' },
    {
      name: 'unknown protocol',
      spec: '  servers:\n  - port: {number: 80, name: http, protocol: SMTP}\n    hosts: ["*"]\n',
      path: 'spec.servers[0].port.protocol',
      message: 'invalid protocol "SMTP", supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP',
    },
    {
      name: 'port out of range',
      spec: '  servers:\n  - port: {number: 70000, name: http, protocol: HTTP}\n    hosts: ["*"]\n',
      path: 'spec.servers[0].port.number',
      message: 'port number 70000 must be in the range 1..65535',
    },
    {
      name: 'empty port name',
      spec: '  servers:\n  - port: {number: 80, name: "", protocol: HTTP}\n    hosts: ["*"]\n',
      path: 'spec.servers[0].port.name',
      message: 'port name must be set',
    },
    {
      name: 'targetPort',
      spec: '  servers:\n  - port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}\n    hosts: ["*"]\n',
      path: 'spec.servers[0].port.targetPort',
      message: 'targetPort has no impact on Gateways',
    },
    {
      name: 'empty hosts',
      spec: '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: []\n',
      path: 'spec.servers[0].hosts',
      message: 'server config must contain at least one host',
    },
    {
      name: 'missing hosts',
      spec: '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n',
      path: 'spec.servers[0].hosts',
      message: 'required field is missing',
    },
    {
      name: 'short host name',
      spec: '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [reviews]\n',
      path: 'spec.servers[0].hosts[0]',
      message: 'short names (non FQDN) are not allowed',
    },
    {
      name: 'partial wildcard host',
      spec: '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["foo*.example.com"]\n',
      path: 'spec.servers[0].hosts[0]',
      message: 'partial wildcard "foo*.example.com" not allowed',
    },
    {
      name: 'bad host namespace',
      spec: '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["Bad_NS/foo.example.com"]\n',
      path: 'spec.servers[0].hosts[0]',
      message: 'invalid namespace value "Bad_NS" in gateway',
    },
    {
      name: 'bind not an IP',
      spec: '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    bind: localhost\n    hosts: ["*"]\n',
      path: 'spec.servers[0].bind',
      message: 'localhost is not a valid IP',
    },
    {
      name: 'unix bind with a port number',
      spec: '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    bind: unix://relative.sock\n    hosts: ["*"]\n',
      path: 'spec.servers[0].port.number',
      message: 'port number must be 0 for unix domain socket',
    },
    {
      name: 'unix bind relative path',
      spec: '  servers:\n  - port: {number: 0, name: http, protocol: HTTP}\n    bind: unix://relative.sock\n    hosts: ["*"]\n',
      path: 'spec.servers[0].bind',
      message: 'relative.sock is not an absolute path to a file',
    },
    {
      name: 'HTTPS without tls',
      spec: '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n',
      path: 'spec.servers[0]',
      message: 'server must have TLS settings for HTTPS/TLS protocols',
    },
    {
      name: 'TLS settings on plain HTTP',
      spec: '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*"]\n    tls: {mode: SIMPLE, credentialName: c}\n',
      path: 'spec.servers[0].tls',
      message: 'server cannot have TLS settings for plain text HTTP ports',
    },
    {
      name: 'TLS settings on TCP',
      spec: '  servers:\n  - port: {number: 31400, name: tcp, protocol: TCP}\n    hosts: ["*"]\n    tls: {mode: SIMPLE, credentialName: c}\n',
      path: 'spec.servers[0].tls',
      message: 'server cannot have TLS settings for non HTTPS/TLS ports',
    },
    {
      name: 'SIMPLE without certificates',
      spec: '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n    tls: {mode: SIMPLE}\n',
      path: 'spec.servers[0].tls',
      message: 'SIMPLE TLS requires a server certificate',
    },
    {
      name: 'MUTUAL without a CA bundle',
      spec: '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n    tls: {mode: MUTUAL, serverCertificate: /a, privateKey: /b}\n',
      path: 'spec.servers[0].tls',
      message: 'MUTUAL TLS requires a client CA bundle',
    },
    {
      name: 'tlsCertificates entry without key',
      spec: '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n    tls:\n      mode: SIMPLE\n      tlsCertificates: [{serverCertificate: /a}]\n',
      path: 'spec.servers[0].tls.tlsCertificates[0]',
      message: 'SIMPLE TLS requires a private key',
    },
    {
      name: 'two certificate sources',
      spec: '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n    tls: {mode: SIMPLE, credentialName: a, serverCertificate: /a, privateKey: /b}\n',
      path: 'spec.servers[0].tls',
      message: 'only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified',
    },
    {
      name: 'ISTIO_MUTUAL with credentialName',
      spec: '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n    tls: {mode: ISTIO_MUTUAL, credentialName: a}\n',
      path: 'spec.servers[0].tls.credentialName',
      message: 'ISTIO_MUTUAL TLS cannot have associated credentialName',
    },
    {
      name: 'CRL with SIMPLE',
      spec: '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n    tls: {mode: SIMPLE, serverCertificate: /a, privateKey: /b, caCrl: /c}\n',
      path: 'spec.servers[0].tls.caCrl',
      message: 'CRL is not supported with SIMPLE TLS',
    },
    {
      name: 'three credentialNames',
      spec: '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n    tls: {mode: SIMPLE, credentialNames: [a, b, c]}\n',
      path: 'spec.servers[0].tls.credentialNames',
      message: 'must have at most 2 entries',
    },
    {
      name: 'unknown TLS mode',
      spec: '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n    tls: {mode: STRICT}\n',
      path: 'spec.servers[0].tls.mode',
      message: 'must be one of PASSTHROUGH, SIMPLE, MUTUAL, AUTO_PASSTHROUGH, ISTIO_MUTUAL, OPTIONAL_MUTUAL',
    },
    {
      name: 'duplicate port names',
      spec: `  servers:\n${httpServer}  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: ["*"]\n`,
      path: 'spec.servers[1].port.name',
      message: 'port names in servers must be unique: duplicate name http',
    },
    {
      name: 'name with a dot',
      gwName: 'my.gateway',
      spec: `  servers:\n${httpServer}`,
      path: 'metadata.name',
      message: 'invalid gateway name: "my.gateway"',
    },
    {
      name: 'unknown field',
      spec: `  server:\n${httpServer}`,
      path: 'spec.server',
      message: 'unknown field "server"',
    },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec, c.gwName), K, [{ path: c.path, message: c.message }]);
    });

  it('rejects a CRL alongside credentialName (mode left at PASSTHROUGH; SIMPLE/MUTUAL with a credential skip the CRL checks)', () => {
    expectInvalid(
      head('  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n    tls: {credentialName: a, caCrl: /c}\n'),
      K,
      [{ path: 'spec.servers[0].tls.caCrl', message: 'CRL is not supported with credentialName. CRL has to be specified in the credential' }],
    );
  });

  it('warns, without rejecting, as Istio does', () => {
    const w = expectValid(
      head(`  servers:
  - port: {number: 443, name: tls, protocol: TLS}
    hosts: ["*"]
    tls:
      mode: PASSTHROUGH
      credentialName: ignored
      httpsRedirect: true
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls:
      mode: SIMPLE
      credentialName: c
      minProtocolVersion: TLSV1_1
  - port: {number: 9443, name: https2, protocol: HTTPS}
    hosts: ["*"]
    tls:
      mode: SIMPLE
      credentialName: c
      minProtocolVersion: TLSV1_3
      maxProtocolVersion: TLSV1_2
      cipherSuites: [FOO, ECDHE-RSA-AES128-SHA, ECDHE-RSA-AES128-SHA]
`),
      K,
    );
    const msgs = w.map((i) => `${i.path}: ${i.message}`);
    assert.ok(msgs.includes('spec.servers[0].tls: PASSTHROUGH mode does not use certificates, they will be ignored'), msgs.join('\n'));
    assert.ok(msgs.includes('spec.servers[0].tls.httpsRedirect: tls.httpsRedirect should only be used with http servers'));
    assert.ok(
      msgs.includes(
        'spec.servers[1].tls.minProtocolVersion: TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.',
      ),
    );
    assert.ok(msgs.includes('spec.servers[2].tls.cipherSuites: ignoring invalid cipher suites: [FOO]'));
    assert.ok(msgs.includes('spec.servers[2].tls.cipherSuites: ignoring duplicate cipher suites: [ECDHE-RSA-AES128-SHA]'));
    assert.ok(msgs.some((m) => m.startsWith('spec.servers[2].tls.minProtocolVersion: minProtocolVersion TLSV1_3 is higher than maxProtocolVersion TLSV1_2')));
    assert.ok(w.every((i) => i.severity === 'warning'));
  });

  it('reports every problem at once', () => {
    const issues = expectInvalid(
      head('  servers:\n  - port: {number: 0, name: "", protocol: FOO}\n    hosts: [a]\n    extra: 1\n'),
      K,
      [
        { path: 'spec.servers[0].extra', message: 'unknown field "extra"' },
        { path: 'spec.servers[0].port.protocol', message: 'invalid protocol "FOO"' },
        { path: 'spec.servers[0].port.number', message: 'port number 0 must be in the range 1..65535' },
        { path: 'spec.servers[0].port.name', message: 'port name must be set' },
        { path: 'spec.servers[0].hosts[0]', message: 'short names (non FQDN) are not allowed' },
      ],
    );
    assert.ok(issues.length >= 5);
  });

  it('exports protocol and server helpers', () => {
    assert.equal(parseProtocol('grpc-web'), 'GRPC-Web');
    assert.equal(parseProtocol('Https'), 'HTTPS');
    assert.equal(parseProtocol('SMTP'), undefined);
    const s: Server = { port: { number: 443, name: 'https', protocol: 'https' }, hosts: ['*'], tls: {} };
    assert.equal(isHttpsServer(s), true);
    assert.equal(isPassThroughServer(s), true);
    assert.equal(isPassThroughServer({ ...s, tls: { mode: 'SIMPLE' } }), false);
  });
});
