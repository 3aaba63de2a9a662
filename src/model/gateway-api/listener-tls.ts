// A Gateway listener's `tls` as Istio ServerTLSSettings (pilot/pkg/config/kube/gateway/conversion.go
// buildTLS, buildSecretReference, buildCaCertificateReference, resolveGatewayTLS):
// - Terminate -> SIMPLE with `credentialName: kubernetes-gateway://<ns>/<secret>` (two refs ->
//   credentialNames); the `gateway.istio.io/tls-terminate-mode` option may ask for MUTUAL, OPTIONAL_MUTUAL,
//   ISTIO_MUTUAL or ISTIO_SIMPLE (the workload certificate, `builtin://`);
// - a Secret in another namespace needs a ReferenceGrant from Gateways in the listener's namespace
//   (checked before anything else about the reference, as Istio does, so status never reveals it exists);
// - spec.tls.frontend (per port, else default) client validation -> MUTUAL (OPTIONAL_MUTUAL with
//   AllowInsecureFallback) against `<configmap|kubernetes-gateway>://<ns>/<name>-cacert`;
// - Passthrough -> PASSTHROUGH; `gateway.istio.io/tls-cipher-suites` -> cipherSuites (valid ones, deduplicated).
// Secrets and ConfigMaps are not part of the model, so their existence and contents are not checked.
// A listener whose certificates are all unusable gets an error and is not served (Istio: not Programmed).

import { at } from '../../lib/issue.js';
import type { SecretObjectReference, ObjectReference } from '../../api/gateway-api/common.js';
import type { GatewayTLSConfig, K8sGatewaySpec, Listener } from '../../api/gateway-api/gateway.js';
import { isValidCipherSuite, type ServerTLSSettings } from '../../api/networking/gateway.js';
import { REASON, type ConfigError } from './conditions.js';
import type { ConversionContext } from './context.js';

const TERMINATE_MODE_OPTION = 'gateway.istio.io/tls-terminate-mode';
const CIPHER_SUITES_OPTION = 'gateway.istio.io/tls-cipher-suites';
const GATEWAY_KIND = { group: 'gateway.networking.k8s.io', kind: 'Gateway' };

type FrontendTls = NonNullable<GatewayTLSConfig['frontend']>['default'];

export interface ListenerTls {
  readonly tls: ServerTLSSettings;
  /** Set when the listener cannot be served as configured. */
  readonly error?: ConfigError;
  /** Certificate references skipped while others remain usable. */
  readonly warnings: readonly ConfigError[];
}

/** credentials.ToKubernetesGatewayResource */
function gatewayCredential(namespace: string, name: string): string {
  return name.startsWith('builtin://') ? 'builtin://' : `kubernetes-gateway://${namespace}/${name}`;
}

/** secretObjectReferenceString: `group/kind/name.namespace`, as written. */
function secretRefString(ref: SecretObjectReference): string {
  return `${ref.group ?? ''}/${ref.kind ?? ''}/${ref.name}.${ref.namespace ?? ''}`;
}

function objectRefString(ref: ObjectReference): string {
  return `${ref.group}/${ref.kind}/${ref.name}.${ref.namespace ?? ''}`;
}

/** resolveGatewayTLS: the frontend TLS config for the listener's port (per port, else default), with its path. */
function frontendFor(port: number, spec: K8sGatewaySpec): { tls: FrontendTls; path: string } | undefined {
  const f = spec.tls?.frontend;
  if (f === undefined) return undefined;
  const i = (f.perPort ?? []).findIndex((p) => p.port === port);
  const pp = f.perPort?.[i];
  if (pp !== undefined) return { tls: pp.tls, path: `spec.tls.frontend.perPort[${i}].tls` };
  return { tls: f.default, path: 'spec.tls.frontend.default' };
}

function certificateRefs(ctx: ConversionContext, l: Listener, namespace: string, path: string): { names: string[]; errors: ConfigError[] } {
  const names: string[] = [];
  const errors: ConfigError[] = [];
  (l.tls?.certificateRefs ?? []).forEach((ref, i) => {
    const p = at(at(path, 'certificateRefs'), i);
    const credNs = ref.namespace ?? namespace;
    if (credNs !== namespace && !ctx.referenceAllowed({ ...GATEWAY_KIND, namespace }, { group: '', kind: 'Secret', namespace: credNs, name: ref.name })) {
      errors.push({
        reason: REASON.RefNotPermitted,
        message: `certificateRef ${ref.name}/${credNs} not accessible to a Gateway in namespace "${namespace}" (missing a ReferenceGrant?)`,
        path: p,
      });
      return;
    }
    if ((ref.group ?? '') !== '' || (ref.kind ?? 'Secret') !== 'Secret') {
      errors.push({ reason: REASON.InvalidCertificateRef, message: `invalid certificate reference ${secretRefString(ref)}, only secret is allowed`, path: p });
      return;
    }
    names.push(gatewayCredential(credNs, ref.name));
  });
  return { names, errors };
}

/** The CA bundle a frontend validation names, or the error that makes it unusable. */
function caCredential(ctx: ConversionContext, refs: readonly ObjectReference[], namespace: string, path: string): string | ConfigError {
  if (refs.length > 1) return { reason: REASON.InvalidCACertificateRef, message: 'only one caCertificateRef is supported', path };
  const ref = refs[0] as ObjectReference;
  const p = at(path, 0);
  const caNs = ref.namespace ?? namespace;
  const isSecret = ref.group === '' && ref.kind === 'Secret';
  const isConfigMap = ref.group === '' && ref.kind === 'ConfigMap';
  if (caNs !== namespace && !ctx.referenceAllowed({ ...GATEWAY_KIND, namespace }, { group: '', kind: isSecret ? 'Secret' : 'ConfigMap', namespace: caNs, name: ref.name })) {
    return { reason: REASON.RefNotPermitted, message: `caCertificateRef ${caNs}/${ref.name} not accessible to a Gateway in namespace "${namespace}" (missing a ReferenceGrant?)`, path: p };
  }
  if (!isSecret && !isConfigMap) {
    return { reason: REASON.InvalidCACertificateKind, message: `invalid CA certificate reference ${objectRefString(ref)}, only secret and configmap are allowed`, path: p };
  }
  return `${isSecret ? 'kubernetes-gateway' : 'configmap'}://${caNs}/${ref.name}-cacert`;
}

function joined(errors: readonly ConfigError[]): ConfigError | undefined {
  const first = errors[0];
  if (first === undefined) return undefined;
  return { ...first, message: errors.map((e) => e.message).join('; ') };
}

function cipherSuites(l: Listener): string[] | undefined {
  const raw = l.tls?.options?.[CIPHER_SUITES_OPTION];
  if (raw === undefined || raw === '') return undefined;
  const out: string[] = [];
  for (const s of raw.split(',').map((x) => x.trim())) if (isValidCipherSuite(s) && !out.includes(s)) out.push(s);
  return out.length > 0 ? out : undefined;
}

/**
 * buildTLS for listener `l` at `path` (`spec.listeners[i]`) of a Gateway in `namespace`; undefined without
 * `tls`. Certificate references that cannot be used are skipped; the listener fails only when none is left.
 */
export function buildListenerTls(ctx: ConversionContext, spec: K8sGatewaySpec, l: Listener, namespace: string, path: string): ListenerTls | undefined {
  if (l.tls === undefined) return undefined;
  const tlsPath = at(path, 'tls');
  const ciphers = cipherSuites(l);
  const withCiphers = (t: ServerTLSSettings): ServerTLSSettings => (ciphers !== undefined ? { ...t, cipherSuites: ciphers } : t);
  if ((l.tls.mode ?? 'Terminate') === 'Passthrough') return { tls: withCiphers({ mode: 'PASSTHROUGH' }), warnings: [] };

  const option = l.tls.options?.[TERMINATE_MODE_OPTION];
  let out: ServerTLSSettings = { mode: option === 'MUTUAL' ? 'MUTUAL' : option === 'OPTIONAL_MUTUAL' ? 'OPTIONAL_MUTUAL' : 'SIMPLE' };
  if (option === 'ISTIO_SIMPLE') return { tls: { mode: 'SIMPLE', credentialName: 'builtin://' }, warnings: [] };
  if (option === 'ISTIO_MUTUAL') return { tls: { mode: 'ISTIO_MUTUAL' }, warnings: [] };
  if ((l.tls.certificateRefs ?? []).length > 2) {
    const error: ConfigError = { reason: REASON.InvalidCertificateRef, message: 'TLS mode can only support up to 2 server certificates', path: at(tlsPath, 'certificateRefs') };
    return { tls: out, error, warnings: [] };
  }
  const certs = certificateRefs(ctx, l, namespace, tlsPath);
  if (certs.names.length === 0) {
    const error = joined(certs.errors) ?? { reason: REASON.InvalidCertificateRef, message: 'no certificateRefs for TLS mode Terminate', path: tlsPath };
    return { tls: out, error, warnings: [] };
  }
  out = certs.names.length === 1 ? { ...out, credentialName: certs.names[0] as string } : { ...out, credentialNames: certs.names };

  const frontend = frontendFor(l.port, spec);
  const validation = frontend?.tls.validation;
  if (frontend !== undefined && validation !== undefined && validation.caCertificateRefs.length > 0) {
    const ca = caCredential(ctx, validation.caCertificateRefs, namespace, `${frontend.path}.validation.caCertificateRefs`);
    if (typeof ca !== 'string') return { tls: out, error: ca, warnings: certs.errors };
    const insecure = validation.mode === 'AllowInsecureFallback';
    out = { ...out, mode: insecure ? 'OPTIONAL_MUTUAL' : 'MUTUAL', insecureSkipVerify: insecure, caCertCredentialName: ca };
    if (option === 'MUTUAL' || option === 'OPTIONAL_MUTUAL') out = { ...out, mode: option, insecureSkipVerify: false };
  }
  return { tls: withCiphers(out), warnings: certs.errors };
}
