// The data plane's SecretSource over the ADS client's SDS table: a TLS context's SDS certificate name gives
// the PEM chain and key of a `tls_certificate` Secret, its validation name the trusted CA (and CRL, if
// any) of a `validation_context` Secret. Lookups happen per connection, so they read the current table (an SDS
// update is seen by the next handshake) and reuse one answer per accepted entry (entries are immutable).
// A name the server has not supplied, or a Secret of the other kind, answers undefined: callers report
// Envoy's "Secret is not supplied by SDS".

import type { Secret } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { SECRET_TYPE } from '../../xds/type-urls.js';
import type { SecretSource } from '../upstream/connection-pools.js';
import type { AdsClient, ResourceEntry } from './ads-client.js';
import { inlineText } from './validate-secret.js';

type Certificate = { readonly cert: string; readonly key: string };
type Validation = { readonly trustedCa: string; readonly crl?: string };

const certificates = new WeakMap<ResourceEntry<Secret>, Certificate | null>();
const validations = new WeakMap<ResourceEntry<Secret>, Validation | null>();

function certificateOf(e: ResourceEntry<Secret>): Certificate | null {
  let c = certificates.get(e);
  if (c === undefined) {
    const t = e.message.type;
    const cert = t.case === 'tlsCertificate' ? inlineText(t.value.certificateChain) : undefined;
    const key = t.case === 'tlsCertificate' ? inlineText(t.value.privateKey) : undefined;
    c = cert !== undefined && key !== undefined ? { cert, key } : null;
    certificates.set(e, c);
  }
  return c;
}

function validationOf(e: ResourceEntry<Secret>): Validation | null {
  let v = validations.get(e);
  if (v === undefined) {
    const t = e.message.type;
    const trustedCa = t.case === 'validationContext' ? inlineText(t.value.trustedCa) : undefined;
    const crl = t.case === 'validationContext' ? inlineText(t.value.crl) : undefined;
    v = trustedCa !== undefined ? { trustedCa, ...(crl !== undefined ? { crl } : {}) } : null;
    validations.set(e, v);
  }
  return v;
}

/** Secrets as the ADS client holds them now (SDS over ADS). */
export function secretSourceOf(client: Pick<AdsClient, 'table'>): SecretSource {
  return {
    certificate(name) {
      const e = client.table(SECRET_TYPE).get(name);
      return e === undefined ? undefined : (certificateOf(e) ?? undefined);
    },
    validation(name) {
      const e = client.table(SECRET_TYPE).get(name);
      return e === undefined ? undefined : (validationOf(e) ?? undefined);
    },
  };
}
