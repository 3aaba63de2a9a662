// SDS resource names of credentials, and which a proxy may be given, as Istio's pilot/pkg/model/credentials
// ParseResourceName and pilot/pkg/xds/sds.go filterAuthorizedResources decide:
// - `kubernetes://<name>` or `kubernetes://<ns>/<name>`: a Secret, in the proxy's namespace when none is given
//   (Istio reads it where the gateway workload runs, not where the Gateway resource lives); another namespace
//   is never allowed. Key material only for routers: Istio also asks the API server whether the proxy's
//   service account may list secrets, which in Istio's install only gateway accounts may; CA bundles
//   (`-cacert`) are public and allowed to anyone in the namespace;
// - `kubernetes-gateway://<ns>/<name>`: a Secret referenced by a Gateway API listener; the conversion kept only
//   references that are allowed (same namespace or a ReferenceGrant), so these are served as they come;
// - `configmap://<ns>/<name>`: a CA bundle in a ConfigMap, a kind Isthmus does not read;
// - `invalid://`: a reference the conversion already rejected (and reported); nothing is served.
// Pure: no lookups here.

/** credentials.SdsCaSuffix: a resource name ending in it asks for the CA bundle only. */
export const CA_SUFFIX = '-cacert';

export type CredentialRequest =
  | {
      readonly kind: 'secret';
      readonly resourceName: string;
      readonly namespace: string;
      readonly name: string;
      /** Only the CA bundle (`-cacert`): validation_context instead of tls_certificate. */
      readonly caOnly: boolean;
    }
  | { readonly kind: 'ignored'; readonly resourceName: string }
  | { readonly kind: 'denied'; readonly resourceName: string; readonly reason: string };

export interface Requester {
  readonly namespace: string;
  readonly router: boolean;
}

function splitNamespaced(rest: string, defaultNamespace: string | undefined): { namespace: string; name: string } | undefined {
  const parts = rest.split('/');
  if (parts.length === 1) return defaultNamespace === undefined || parts[0] === '' ? undefined : { namespace: defaultNamespace, name: parts[0] ?? '' };
  const [namespace = '', name = ''] = parts;
  return namespace === '' || name === '' ? undefined : { namespace, name };
}

/** ParseResourceName + filterAuthorizedResources for one SDS resource name requested over ADS. */
export function parseCredentialRequest(resourceName: string, who: Requester): CredentialRequest {
  const denied = (reason: string): CredentialRequest => ({ kind: 'denied', resourceName, reason });
  if (resourceName.startsWith('invalid://')) return { kind: 'ignored', resourceName };
  if (resourceName.startsWith('configmap://')) return denied('ConfigMap credentials are not supported: Isthmus does not read ConfigMaps');
  const k8s = resourceName.startsWith('kubernetes://');
  const gateway = resourceName.startsWith('kubernetes-gateway://');
  if (!k8s && !gateway) return denied(`unknown resource type: ${resourceName}`);
  const rest = resourceName.slice(k8s ? 'kubernetes://'.length : 'kubernetes-gateway://'.length);
  const ref = splitNamespaced(rest, k8s ? who.namespace : undefined);
  if (ref === undefined) return denied(`invalid resource name ${JSON.stringify(resourceName)}. Expected namespace and name`);
  const caOnly = ref.name.endsWith(CA_SUFFIX);
  if (k8s) {
    if (ref.namespace !== who.namespace) return denied('cross namespace secret reference requires ReferenceGrant');
    if (!caOnly && !who.router) return denied(`only gateways are authorized to read certificates and keys from secrets in namespace ${who.namespace}`);
  }
  return { kind: 'secret', resourceName, namespace: ref.namespace, name: ref.name, caOnly };
}
