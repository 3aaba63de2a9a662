// Constructors for Envoy RBAC permission and principal nodes, shaped as istiod emits them
// (pilot/pkg/security/authz/model/permission.go, principal.go). No policy logic lives here.

import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { CidrRange } from '../../../xds/gen/envoy/config/core/v3/address_pb.js';
import { PermissionSchema, PolicySchema, PrincipalSchema, type Permission, type Policy, type Principal } from '../../../xds/gen/envoy/config/rbac/v3/rbac_pb.js';
import type { HeaderMatcher } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { MetadataMatcher } from '../../../xds/gen/envoy/type/matcher/v3/metadata_pb.js';
import type { PathMatcher } from '../../../xds/gen/envoy/type/matcher/v3/path_pb.js';
import type { StringMatcher } from '../../../xds/gen/envoy/type/matcher/v3/string_pb.js';

/** Filter-state key holding the peer identity when `useFilterState` replaces `authenticated` (ambient/waypoints). */
export const PEER_PRINCIPAL_FILTER_STATE_KEY = 'io.istio.peer_principal';

export const permissionAny = (): Permission => create(PermissionSchema, { rule: { case: 'any', value: true } });
export const permissionAnd = (rules: Permission[]): Permission => create(PermissionSchema, { rule: { case: 'andRules', value: { rules } } });
export const permissionOr = (rules: Permission[]): Permission => create(PermissionSchema, { rule: { case: 'orRules', value: { rules } } });
export const permissionNot = (p: Permission): Permission => create(PermissionSchema, { rule: { case: 'notRule', value: p } });
export const permissionDestinationIp = (c: CidrRange): Permission => create(PermissionSchema, { rule: { case: 'destinationIp', value: c } });
export const permissionDestinationPort = (port: number): Permission => create(PermissionSchema, { rule: { case: 'destinationPort', value: port } });
export const permissionRequestedServerName = (m: StringMatcher): Permission =>
  create(PermissionSchema, { rule: { case: 'requestedServerName', value: m } });
export const permissionMetadata = (m: MetadataMatcher): Permission => create(PermissionSchema, { rule: { case: 'metadata', value: m } });
export const permissionHeader = (h: HeaderMatcher): Permission => create(PermissionSchema, { rule: { case: 'header', value: h } });
export const permissionUrlPath = (p: PathMatcher): Permission => create(PermissionSchema, { rule: { case: 'urlPath', value: p } });
/** `uri_template` extension named `uri-template`, as Istio names it. */
export const permissionUriTemplate = (typedConfig: Any): Permission =>
  create(PermissionSchema, { rule: { case: 'uriTemplate', value: { name: 'uri-template', typedConfig } } });

export const principalAny = (): Principal => create(PrincipalSchema, { identifier: { case: 'any', value: true } });
export const principalAnd = (ids: Principal[]): Principal => create(PrincipalSchema, { identifier: { case: 'andIds', value: { ids } } });
export const principalOr = (ids: Principal[]): Principal => create(PrincipalSchema, { identifier: { case: 'orIds', value: { ids } } });
export const principalNot = (p: Principal): Principal => create(PrincipalSchema, { identifier: { case: 'notId', value: p } });
export const principalDirectRemoteIp = (c: CidrRange): Principal => create(PrincipalSchema, { identifier: { case: 'directRemoteIp', value: c } });
export const principalRemoteIp = (c: CidrRange): Principal => create(PrincipalSchema, { identifier: { case: 'remoteIp', value: c } });
export const principalMetadata = (m: MetadataMatcher): Principal => create(PrincipalSchema, { identifier: { case: 'metadata', value: m } });
export const principalHeader = (h: HeaderMatcher): Principal => create(PrincipalSchema, { identifier: { case: 'header', value: h } });

/** Peer identity match: `authenticated.principal_name`, or the `io.istio.peer_principal` filter state when asked. */
export function principalAuthenticated(name: StringMatcher, useAuthenticated: boolean): Principal {
  if (useAuthenticated) return create(PrincipalSchema, { identifier: { case: 'authenticated', value: { principalName: name } } });
  return create(PrincipalSchema, {
    identifier: { case: 'filterState', value: { key: PEER_PRINCIPAL_FILTER_STATE_KEY, matcher: { case: 'stringMatch', value: name } } },
  });
}

/** builder.rbacPolicyMatchNever: the policy a rule-less AuthorizationPolicy becomes. */
export function policyMatchNever(): Policy {
  return create(PolicySchema, { permissions: [permissionNot(permissionAny())], principals: [principalNot(principalAny())] });
}
