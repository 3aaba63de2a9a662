// What the Gateway API conversion looks up besides the routes and gateways themselves (Istio's
// RouteContext and the collections GatewayCollection reads): Kubernetes Services and ServiceEntries by
// `namespace/name`, services by hostname, Namespaces with their labels (allowedRoutes selectors),
// ReferenceGrants (gatewaycommon/references.go), GatewayClasses, the mesh's domain suffix and the controller
// name Isthmus answers to. Built once per snapshot from the validated entries and the registry.

import type { ResourceEntry } from '../../api/entry.js';
import { isKind } from '../../api/kind.js';
import { NAMESPACE } from '../../api/core/namespace.js';
import { GATEWAY_CLASS } from '../../api/gateway-api/gateway-class.js';
import type { LabelSelector } from '../../api/gateway-api/common.js';
import { REFERENCE_GRANT, referenceGrantAllows, type ReferenceGrant } from '../../api/gateway-api/reference-grant.js';
import type { Labels, Service } from '../../registry/types.js';
import type { MeshConfig } from '../mesh-config.js';
import { BUILTIN_GATEWAY_CLASS } from './conditions.js';

/** The label Kubernetes puts on every namespace (and Istio assumes when it is missing). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface GroupKindRef {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}

export interface ConversionContext {
  readonly domainSuffix: string;
  /** Namespaces known to the config, sorted by name, with `kubernetes.io/metadata.name` set. */
  readonly namespaces: readonly { readonly name: string; readonly labels: Labels }[];
  /** The controller a GatewayClass names (builtin `istio` without an object); undefined for unknown classes. */
  gatewayClassController(className: string): string | undefined;
  /** The Kubernetes Service `namespace/name`. */
  kubeService(namespace: string, name: string): Service | undefined;
  /** The hosts of ServiceEntry `namespace/name`, undefined when it does not exist. */
  serviceEntryHosts(namespace: string, name: string): readonly string[] | undefined;
  /** A service with this hostname visible from `namespace` (RouteContext.LookupHostname). */
  lookupHostname(hostname: string, namespace: string): Service | undefined;
  /** Whether a ReferenceGrant in `to.namespace` lets `from` refer to `to` (ReferenceGrants.BackendAllowed / SecretAllowed). */
  referenceAllowed(from: GroupKindRef, to: GroupKindRef & { readonly name: string }): boolean;
}

/** metav1.LabelSelectorAsSelector(...).Matches; undefined when the selector is invalid (Istio then selects nothing). */
export function labelSelectorMatches(sel: LabelSelector, labels: Labels): boolean | undefined {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (values.length === 0) return undefined;
        if (!has || !values.includes(labels[e.key] ?? '')) return false;
        break;
      case 'NotIn':
        if (values.length === 0) return undefined;
        if (has && values.includes(labels[e.key] ?? '')) return false;
        break;
      case 'Exists':
        if (values.length > 0) return undefined;
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (values.length > 0) return undefined;
        if (has) return false;
        break;
      default:
        return undefined;
    }
  }
  return true;
}

export function buildConversionContext(entries: readonly ResourceEntry[], services: readonly Service[], mesh: MeshConfig): ConversionContext {
  const classes = new Map<string, string>();
  const grants: ReferenceGrant[] = [];
  const namespaces: { name: string; labels: Labels }[] = [];
  for (const e of entries) {
    const r = e.resource;
    if (isKind(r, GATEWAY_CLASS)) classes.set(r.metadata.name, r.spec.controllerName);
    else if (isKind(r, REFERENCE_GRANT)) grants.push(r);
    else if (isKind(r, NAMESPACE)) namespaces.push({ name: r.metadata.name, labels: { ...(r.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: r.metadata.name } });
  }
  namespaces.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const kube = new Map<string, Service>();
  const seHosts = new Map<string, string[]>();
  for (const s of services) {
    const key = `${s.namespace}/${s.name}`;
    if (s.source === 'Kubernetes') kube.set(key, s);
    else seHosts.set(key, [...(seHosts.get(key) ?? []), s.hostname]);
  }
  return {
    domainSuffix: mesh.domainSuffix,
    namespaces,
    gatewayClassController(className) {
      return classes.get(className) ?? (className === BUILTIN_GATEWAY_CLASS ? mesh.gatewayControllerName : undefined);
    },
    kubeService: (namespace, name) => kube.get(`${namespace}/${name}`),
    serviceEntryHosts: (namespace, name) => seHosts.get(`${namespace}/${name}`),
    lookupHostname(hostname, namespace) {
      const visible = services.filter(
        (s) => s.hostname === hostname && (s.namespace === namespace || s.exportTo.includes('*') || s.exportTo.includes(namespace)),
      );
      return visible.find((s) => s.namespace === namespace) ?? visible[0];
    },
    referenceAllowed(from, to) {
      return grants.some(
        (g) =>
          (g.metadata.namespace ?? 'default') === to.namespace &&
          referenceGrantAllows(g, from, { group: to.group, kind: to.kind, name: to.name }),
      );
    },
  };
}
