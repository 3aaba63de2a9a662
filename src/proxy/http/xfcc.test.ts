// x-forwarded-client-cert per forward_client_cert_details mode (Envoy's header docs), on mTLS and plaintext.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mutateXfcc, type XfccConfig, type XfccMode } from './xfcc.js';
import type { PeerCertificate } from './peer-certificate.js';

const PEER: PeerCertificate = {
  uriSans: ['spiffe://cluster.local/ns/default/sa/client'],
  dnsSans: ['a.example', 'b.example'],
  subject: 'CN=client,O=Acme',
  hash: 'ab'.repeat(32),
  localUriSans: ['spiffe://cluster.local/ns/default/sa/server'],
};
const MINE = `By=spiffe://cluster.local/ns/default/sa/server;Hash=${'ab'.repeat(32)};Subject="CN=client,O=Acme";URI=spiffe://cluster.local/ns/default/sa/client;DNS=a.example;DNS=b.example`;
const cfg = (mode: XfccMode): XfccConfig => ({ mode, cert: false, subject: true, uri: true, dns: true });

describe('x-forwarded-client-cert', () => {
  const cases: [XfccMode, boolean, string | undefined][] = [
    ['sanitize', true, undefined],
    ['sanitize', false, undefined],
    ['forward_only', true, 'By=old'],
    ['forward_only', false, undefined],
    ['append_forward', true, `By=old,${MINE}`],
    ['append_forward', false, undefined],
    ['sanitize_set', true, MINE],
    ['sanitize_set', false, undefined],
    ['always_forward_only', false, 'By=old'],
  ];
  for (const [mode, mtls, want] of cases) {
    it(`${mode} on ${mtls ? 'mTLS' : 'plaintext'}`, () => {
      const h: Record<string, string | string[] | undefined> = { 'x-forwarded-client-cert': 'By=old' };
      mutateXfcc(h, cfg(mode), mtls ? PEER : undefined);
      assert.equal(h['x-forwarded-client-cert'], want);
    });
  }
  it('only the parts set_current_client_cert_details asks for', () => {
    const h: Record<string, string | string[] | undefined> = {};
    mutateXfcc(h, { mode: 'sanitize_set', cert: false, subject: false, uri: true, dns: false }, PEER);
    assert.equal(h['x-forwarded-client-cert'], `By=spiffe://cluster.local/ns/default/sa/server;Hash=${'ab'.repeat(32)};URI=spiffe://cluster.local/ns/default/sa/client`);
  });

  it('cert (Istio gateways ask for it): Cert="<URL-encoded PEM>" first after Hash, as Envoy orders them; URI= stays when the certificate has none', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB+z/a=\n-----END CERTIFICATE-----\n';
    const h: Record<string, string | string[] | undefined> = {};
    mutateXfcc(h, { mode: 'sanitize_set', cert: true, subject: true, uri: true, dns: false }, { ...PEER, uriSans: [], localUriSans: [], pem: () => pem });
    assert.equal(
      h['x-forwarded-client-cert'],
      `Hash=${'ab'.repeat(32)};Cert="-----BEGIN%20CERTIFICATE-----%0AMIIB%2Bz%2Fa%3D%0A-----END%20CERTIFICATE-----%0A";Subject="CN=client,O=Acme";URI=`,
    );
  });
});
