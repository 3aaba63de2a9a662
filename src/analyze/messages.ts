// The analysis message registry: every IST code `istioctl analyze` can report, with its name, level,
// description and message template exactly as Istio's pkg/config/analysis/msg/messages.yaml defines them,
// and `formatMessage`, which renders a template the way Go's fmt.Sprintf does (%s %v %q %d).
// docs/analysis-messages.md lists the same codes; messages.test.ts keeps the two in sync.

import { goQuote } from '../api/validation/go-format.js';

export type MessageLevel = 'Error' | 'Warning' | 'Info';

export interface MessageArg {
  readonly name: string;
  /** The Go type Istio declares for the argument (string, int, []string, error...). */
  readonly type: string;
}

export interface MessageType {
  readonly code: string;
  readonly name: string;
  readonly level: MessageLevel;
  readonly description: string;
  readonly template: string;
  readonly args: readonly MessageArg[];
}

// Transcribed from istio/istio pkg/config/analysis/msg/messages.yaml (sorted by code; retired codes absent).
export const MESSAGES = [
  {
    code: 'IST0001',
    name: 'InternalError',
    level: 'Error',
    description: 'There was an internal error in the toolchain. This is almost always a bug in the implementation.',
    template: 'Internal error: %v',
    args: [{ name: 'detail', type: 'string' }],
  },
  {
    code: 'IST0002',
    name: 'Deprecated',
    level: 'Warning',
    description: 'A feature that the configuration is depending on is now deprecated.',
    template: 'Deprecated: %s',
    args: [{ name: 'detail', type: 'string' }],
  },
  {
    code: 'IST0101',
    name: 'ReferencedResourceNotFound',
    level: 'Error',
    description: 'A resource being referenced does not exist.',
    template: 'Referenced %s not found: %q',
    args: [{ name: 'reftype', type: 'string' }, { name: 'refval', type: 'string' }],
  },
  {
    code: 'IST0102',
    name: 'NamespaceNotInjected',
    level: 'Info',
    description: 'A namespace is not enabled for Istio injection.',
    template: 'The namespace is not enabled for Istio injection. Run \'kubectl label namespace %s istio-injection=enabled\' to enable it, or \'kubectl label namespace %s istio-injection=disabled\' to explicitly mark it as not needing injection.',
    args: [{ name: 'namespace', type: 'string' }, { name: 'namespace2', type: 'string' }],
  },
  {
    code: 'IST0103',
    name: 'PodMissingProxy',
    level: 'Warning',
    description: 'A pod is missing the Istio proxy.',
    template: 'The pod %s is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload.',
    args: [{ name: 'podName', type: 'string' }],
  },
  {
    code: 'IST0106',
    name: 'SchemaValidationError',
    level: 'Error',
    description: 'The resource has a schema validation error.',
    template: 'Schema validation error: %v',
    args: [{ name: 'err', type: 'error' }],
  },
  {
    code: 'IST0107',
    name: 'MisplacedAnnotation',
    level: 'Warning',
    description: 'An Istio annotation is applied to the wrong kind of resource.',
    template: 'Misplaced annotation: %s can only be applied to %s',
    args: [{ name: 'annotation', type: 'string' }, { name: 'kind', type: 'string' }],
  },
  {
    code: 'IST0108',
    name: 'UnknownAnnotation',
    level: 'Warning',
    description: 'An Istio annotation is not recognized for any kind of resource',
    template: 'Unknown annotation: %s',
    args: [{ name: 'annotation', type: 'string' }],
  },
  {
    code: 'IST0109',
    name: 'ConflictingMeshGatewayVirtualServiceHosts',
    level: 'Error',
    description: 'Conflicting hosts on VirtualServices associated with mesh gateway',
    template: 'The VirtualServices %s associated with mesh gateway define the same host %s which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.',
    args: [{ name: 'virtualServices', type: 'string' }, { name: 'host', type: 'string' }],
  },
  {
    code: 'IST0110',
    name: 'ConflictingSidecarWorkloadSelectors',
    level: 'Error',
    description: 'A Sidecar resource selects the same workloads as another Sidecar resource',
    template: 'The Sidecars %v in namespace %q select the same workload pod %q, which can lead to undefined behavior.',
    args: [{ name: 'conflictingSidecars', type: '[]string' }, { name: 'namespace', type: 'string' }, { name: 'workloadPod', type: 'string' }],
  },
  {
    code: 'IST0111',
    name: 'MultipleSidecarsWithoutWorkloadSelectors',
    level: 'Error',
    description: 'More than one sidecar resource in a namespace has no workload selector',
    template: 'The Sidecars %v in namespace %q have no workload selector, which can lead to undefined behavior.',
    args: [{ name: 'conflictingSidecars', type: '[]string' }, { name: 'namespace', type: 'string' }],
  },
  {
    code: 'IST0112',
    name: 'VirtualServiceDestinationPortSelectorRequired',
    level: 'Error',
    description: 'A VirtualService routes to a service with more than one port exposed, but does not specify which to use.',
    template: 'This VirtualService routes to a service %q that exposes multiple ports %v. Specifying a port in the destination is required to disambiguate.',
    args: [{ name: 'destHost', type: 'string' }, { name: 'destPorts', type: '[]int' }],
  },
  {
    code: 'IST0116',
    name: 'DeploymentAssociatedToMultipleServices',
    level: 'Warning',
    description: 'The resulting pods of a service mesh deployment can\'t be associated with multiple services using the same port but different protocols.',
    template: 'This deployment %s is associated with multiple services using port %d but different protocols: %v',
    args: [{ name: 'deployment', type: 'string' }, { name: 'port', type: 'int32' }, { name: 'services', type: '[]string' }],
  },
  {
    code: 'IST0118',
    name: 'PortNameIsNotUnderNamingConvention',
    level: 'Info',
    description: 'Port name is not under naming convention. Protocol detection is applied to the port.',
    template: 'Port name %s (port: %d, targetPort: %s) doesn\'t follow the naming convention of Istio port.',
    args: [{ name: 'portName', type: 'string' }, { name: 'port', type: 'int' }, { name: 'targetPort', type: 'string' }],
  },
  {
    code: 'IST0123',
    name: 'NamespaceMultipleInjectionLabels',
    level: 'Warning',
    description: 'A namespace has more than one type of injection labels',
    template: 'The namespace has more than one type of injection labels %v, which may lead to undefined behavior. Make sure only one injection label exists.',
    args: [{ name: 'labels', type: '[]string' }],
  },
  {
    code: 'IST0125',
    name: 'InvalidAnnotation',
    level: 'Warning',
    description: 'An Istio annotation that is not valid',
    template: 'Invalid annotation %s: %s',
    args: [{ name: 'annotation', type: 'string' }, { name: 'problem', type: 'string' }],
  },
  {
    code: 'IST0126',
    name: 'UnknownMeshNetworksServiceRegistry',
    level: 'Error',
    description: 'A service registry in Mesh Networks is unknown',
    template: 'Unknown service registry %s in network %s',
    args: [{ name: 'serviceregistry', type: 'string' }, { name: 'network', type: 'string' }],
  },
  {
    code: 'IST0127',
    name: 'NoMatchingWorkloadsFound',
    level: 'Warning',
    description: 'There aren\'t workloads matching the resource labels',
    template: 'No matching workloads for this resource with the following labels: %s',
    args: [{ name: 'labels', type: 'string' }],
  },
  {
    code: 'IST0128',
    name: 'NoServerCertificateVerificationDestinationLevel',
    level: 'Warning',
    description: 'No caCertificates are set in DestinationRule, this results in no verification of presented server certificate.',
    template: 'DestinationRule %s in namespace %s has TLS mode set to %s but no caCertificates are set to validate server identity for host: %s',
    args: [{ name: 'destinationrule', type: 'string' }, { name: 'namespace', type: 'string' }, { name: 'mode', type: 'string' }, { name: 'host', type: 'string' }],
  },
  {
    code: 'IST0129',
    name: 'NoServerCertificateVerificationPortLevel',
    level: 'Warning',
    description: 'No caCertificates are set in DestinationRule, this results in no verification of presented server certificate for traffic to a given port.',
    template: 'DestinationRule %s in namespace %s has TLS mode set to %s but no caCertificates are set to validate server identity for host: %s at port %s',
    args: [{ name: 'destinationrule', type: 'string' }, { name: 'namespace', type: 'string' }, { name: 'mode', type: 'string' }, { name: 'host', type: 'string' }, { name: 'port', type: 'string' }],
  },
  {
    code: 'IST0130',
    name: 'VirtualServiceUnreachableRule',
    level: 'Warning',
    description: 'A VirtualService rule will never be used because a previous rule uses the same match.',
    template: 'VirtualService rule %v not used (%s).',
    args: [{ name: 'ruleno', type: 'string' }, { name: 'reason', type: 'string' }],
  },
  {
    code: 'IST0131',
    name: 'VirtualServiceIneffectiveMatch',
    level: 'Info',
    description: 'A VirtualService rule match duplicates a match in a previous rule.',
    template: 'VirtualService rule %v match %v is not used (duplicate/overlapping match in rule %v).',
    args: [{ name: 'ruleno', type: 'string' }, { name: 'matchno', type: 'string' }, { name: 'dupno', type: 'string' }],
  },
  {
    code: 'IST0132',
    name: 'VirtualServiceHostNotFoundInGateway',
    level: 'Warning',
    description: 'Host defined in VirtualService not found in Gateway.',
    template: 'one or more host %v defined in VirtualService %s not found in Gateway %s.',
    args: [{ name: 'host', type: '[]string' }, { name: 'virtualservice', type: 'string' }, { name: 'gateway', type: 'string' }],
  },
  {
    code: 'IST0133',
    name: 'SchemaWarning',
    level: 'Warning',
    description: 'The resource has a schema validation warning.',
    template: 'Schema validation warning: %v',
    args: [{ name: 'err', type: 'error' }],
  },
  {
    code: 'IST0134',
    name: 'ServiceEntryAddressesRequired',
    level: 'Warning',
    description: 'Virtual IP addresses are required for ports serving TCP (or unset) protocol when PILOT_ENABLE_IP_AUTOALLOCATE is not set on a proxy',
    template: 'ServiceEntry addresses are required for this protocol.',
    args: [],
  },
  {
    code: 'IST0135',
    name: 'DeprecatedAnnotation',
    level: 'Info',
    description: 'A resource is using a deprecated Istio annotation.',
    template: 'Annotation %q has been deprecated%s and may not work in future Istio versions.',
    args: [{ name: 'annotation', type: 'string' }, { name: 'extra', type: 'string' }],
  },
  {
    code: 'IST0136',
    name: 'AlphaAnnotation',
    level: 'Info',
    description: 'An Istio annotation may not be suitable for production.',
    template: 'Annotation %q is part of an alpha-phase feature and may be incompletely supported.',
    args: [{ name: 'annotation', type: 'string' }],
  },
  {
    code: 'IST0137',
    name: 'DeploymentConflictingPorts',
    level: 'Warning',
    description: 'Two services selecting the same workload with the same targetPort MUST refer to the same port.',
    template: 'This deployment %s is associated with multiple services %v using targetPort %q but different ports: %v.',
    args: [{ name: 'deployment', type: 'string' }, { name: 'services', type: '[]string' }, { name: 'targetPort', type: 'string' }, { name: 'ports', type: '[]int32' }],
  },
  {
    code: 'IST0138',
    name: 'GatewayDuplicateCertificate',
    level: 'Warning',
    description: 'Duplicate certificate in multiple gateways may cause 404s if clients re-use HTTP2 connections.',
    template: 'Duplicate certificate in multiple gateways %v may cause 404s if clients re-use HTTP2 connections.',
    args: [{ name: 'gateways', type: '[]string' }],
  },
  {
    code: 'IST0139',
    name: 'InvalidWebhook',
    level: 'Error',
    description: 'Webhook is invalid or references a control plane service that does not exist.',
    template: '%v',
    args: [{ name: 'error', type: 'string' }],
  },
  {
    code: 'IST0140',
    name: 'IngressRouteRulesNotAffected',
    level: 'Warning',
    description: 'Route rules have no effect on ingress gateway requests',
    template: 'Subset in virtual service %s has no effect on ingress gateway %s requests',
    args: [{ name: 'virtualservicesubset', type: 'string' }, { name: 'virtualservice', type: 'string' }],
  },
  {
    code: 'IST0141',
    name: 'InsufficientPermissions',
    level: 'Error',
    description: 'Required permissions to install Istio are missing.',
    template: 'Missing required permission to create resource %v (%v)',
    args: [{ name: 'resource', type: 'string' }, { name: 'error', type: 'string' }],
  },
  {
    code: 'IST0142',
    name: 'UnsupportedKubernetesVersion',
    level: 'Error',
    description: 'The Kubernetes version is not supported',
    template: 'The Kubernetes Version %q is lower than the minimum version: %v',
    args: [{ name: 'version', type: 'string' }, { name: 'minimumVersion', type: 'string' }],
  },
  {
    code: 'IST0143',
    name: 'LocalhostListener',
    level: 'Error',
    description: 'A port exposed in a Service is bound to a localhost address',
    template: 'Port %v is exposed in a Service but listens on localhost. It will not be exposed to other pods.',
    args: [{ name: 'port', type: 'string' }],
  },
  {
    code: 'IST0144',
    name: 'InvalidApplicationUID',
    level: 'Warning',
    description: 'Application pods should not run as user ID (UID) 1337',
    template: 'User ID (UID) 1337 is reserved for the sidecar proxy.',
    args: [],
  },
  {
    code: 'IST0145',
    name: 'ConflictingGateways',
    level: 'Error',
    description: 'Gateway should not have the same selector, port and matched hosts of server',
    template: 'Conflict with gateways %s (workload selector %s, port %s, hosts %v).',
    args: [{ name: 'gateway', type: 'string' }, { name: 'selector', type: 'string' }, { name: 'portnumber', type: 'string' }, { name: 'hosts', type: 'string' }],
  },
  {
    code: 'IST0146',
    name: 'ImageAutoWithoutInjectionWarning',
    level: 'Warning',
    description: 'Deployments with `image: auto` should be targeted for injection.',
    template: '%s %s contains `image: auto` but does not match any Istio injection webhook selectors.',
    args: [{ name: 'resourceType', type: 'string' }, { name: 'resourceName', type: 'string' }],
  },
  {
    code: 'IST0147',
    name: 'ImageAutoWithoutInjectionError',
    level: 'Error',
    description: 'Pods with `image: auto` should be targeted for injection.',
    template: '%s %s contains `image: auto` but does not match any Istio injection webhook selectors.',
    args: [{ name: 'resourceType', type: 'string' }, { name: 'resourceName', type: 'string' }],
  },
  {
    code: 'IST0148',
    name: 'NamespaceInjectionEnabledByDefault',
    level: 'Info',
    description: 'user namespace should be injectable if Istio is installed with enableNamespacesByDefault enabled and neither injection label is set.',
    template: 'is enabled for Istio injection, as Istio is installed with enableNamespacesByDefault as true.',
    args: [],
  },
  {
    code: 'IST0149',
    name: 'JwtClaimBasedRoutingWithoutRequestAuthN',
    level: 'Error',
    description: 'Virtual service using JWT claim based routing without request authentication.',
    template: 'The virtual service uses the JWT claim based routing (key: %s) but found no request authentication for the gateway (%s) pod (%s). The request authentication must first be applied for the gateway pods to validate the JWT token and make the claims available for routing.',
    args: [{ name: 'key', type: 'string' }, { name: 'gateway', type: 'string' }, { name: 'pod', type: 'string' }],
  },
  {
    code: 'IST0150',
    name: 'ExternalNameServiceTypeInvalidPortName',
    level: 'Warning',
    description: 'Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly for ExternalName services.',
    template: 'Port name for ExternalName service is invalid. Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly',
    args: [],
  },
  {
    code: 'IST0151',
    name: 'EnvoyFilterUsesRelativeOperation',
    level: 'Warning',
    description: 'This EnvoyFilter does not have a priority and has a relative patch operation set which can cause the EnvoyFilter not to be applied. Using the INSERT_FIRST or ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly.',
    template: 'This EnvoyFilter does not have a priority and has a relative patch operation set which can cause the EnvoyFilter not to be applied. Using the INSERT_FIRST of ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly.',
    args: [],
  },
  {
    code: 'IST0152',
    name: 'EnvoyFilterUsesReplaceOperationIncorrectly',
    level: 'Error',
    description: 'The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER.',
    template: 'The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER.',
    args: [],
  },
  {
    code: 'IST0153',
    name: 'EnvoyFilterUsesAddOperationIncorrectly',
    level: 'Error',
    description: 'The ADD operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.',
    template: 'The ADD operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.',
    args: [],
  },
  {
    code: 'IST0154',
    name: 'EnvoyFilterUsesRemoveOperationIncorrectly',
    level: 'Error',
    description: 'The REMOVE operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.',
    template: 'The REMOVE operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.',
    args: [],
  },
  {
    code: 'IST0155',
    name: 'EnvoyFilterUsesRelativeOperationWithProxyVersion',
    level: 'Warning',
    description: 'This EnvoyFilter does not have a priority and has a relative patch operation (NSTERT_BEFORE/AFTER, REPLACE, MERGE, DELETE) and proxyVersion set which can cause the EnvoyFilter not to be applied during an upgrade. Using the INSERT_FIRST or ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly.',
    template: 'This EnvoyFilter does not have a priority and has a relative patch operation (NSTERT_BEFORE/AFTER, REPLACE, MERGE, DELETE) and proxyVersion set which can cause the EnvoyFilter not to be applied during an upgrade. Using the INSERT_FIRST or ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly.',
    args: [],
  },
  {
    code: 'IST0156',
    name: 'UnsupportedGatewayAPIVersion',
    level: 'Error',
    description: 'The Gateway API CRD version is not supported',
    template: 'The Gateway API CRD version %v is lower than the minimum version: %v',
    args: [{ name: 'version', type: 'string' }, { name: 'minimumVersion', type: 'string' }],
  },
  {
    code: 'IST0157',
    name: 'InvalidTelemetryProvider',
    level: 'Warning',
    description: 'The Telemetry with empty providers will be ignored',
    template: 'The Telemetry %v in namespace %q with empty providers will be ignored.',
    args: [{ name: 'name', type: 'string' }, { name: 'namespace', type: 'string' }],
  },
  {
    code: 'IST0158',
    name: 'PodsIstioProxyImageMismatchInNamespace',
    level: 'Warning',
    description: 'The Istio proxy image of the pods running in the namespace do not match the image defined in the injection configuration.',
    template: 'The Istio proxy images of the pods running in the namespace do not match the image defined in the injection configuration (pod names: %v). This often happens after upgrading the Istio control-plane and can be fixed by redeploying the pods.',
    args: [{ name: 'podNames', type: '[]string' }],
  },
  {
    code: 'IST0159',
    name: 'ConflictingTelemetryWorkloadSelectors',
    level: 'Error',
    description: 'A Telemetry resource selects the same workloads as another Telemetry resource',
    template: 'The Telemetries %v in namespace %q select the same workload pod %q, which can lead to undefined behavior.',
    args: [{ name: 'conflictingTelemetries', type: '[]string' }, { name: 'namespace', type: 'string' }, { name: 'workloadPod', type: 'string' }],
  },
  {
    code: 'IST0160',
    name: 'MultipleTelemetriesWithoutWorkloadSelectors',
    level: 'Error',
    description: 'More than one telemetry resource in a namespace has no workload selector',
    template: 'The Telemetries %v in namespace %q have no workload selector, which can lead to undefined behavior.',
    args: [{ name: 'conflictingTelemetries', type: '[]string' }, { name: 'namespace', type: 'string' }],
  },
  {
    code: 'IST0161',
    name: 'InvalidGatewayCredential',
    level: 'Error',
    description: 'The credential provided for the Gateway resource is invalid',
    template: 'The credential referenced by the Gateway %s in namespace %s is invalid, which can cause the traffic not to work as expected.',
    args: [{ name: 'gatewayName', type: 'string' }, { name: 'gatewayNamespace', type: 'string' }],
  },
  {
    code: 'IST0162',
    name: 'GatewayPortNotDefinedOnService',
    level: 'Warning',
    description: 'Gateway port not exposed by service',
    template: 'The gateway is listening on a target port (port %d) that is not defined in the Service associated with its workload instances (Pod selector %s). If you need to access the gateway port through the gateway Service, it will not be available.',
    args: [{ name: 'port', type: 'int' }, { name: 'selector', type: 'string' }],
  },
  {
    code: 'IST0163',
    name: 'InvalidExternalControlPlaneConfig',
    level: 'Warning',
    description: 'Address for the ingress gateway on the external control plane is not valid',
    template: 'The hostname (%s) that was provided for the webhook (%s) to reach the ingress gateway on the external control plane cluster %s. Traffic may not flow properly.',
    args: [{ name: 'hostname', type: 'string' }, { name: 'webhook', type: 'string' }, { name: 'msg', type: 'string' }],
  },
  {
    code: 'IST0164',
    name: 'ExternalControlPlaneAddressIsNotAHostname',
    level: 'Info',
    description: 'Address for the ingress gateway on the external control plane is an IP address and not a hostname',
    template: 'The address (%s) that was provided for the webhook (%s) to reach the ingress gateway on the external control plane cluster is an IP address. This is not recommended for a production environment.',
    args: [{ name: 'hostname', type: 'string' }, { name: 'webhook', type: 'string' }],
  },
  {
    code: 'IST0165',
    name: 'ReferencedInternalGateway',
    level: 'Warning',
    description: 'VirtualServices should not reference internal Gateways.',
    template: 'Gateway reference in VirtualService %s is to an implementation-generated internal Gateway: %s.',
    args: [{ name: 'virtualservice', type: 'string' }, { name: 'gateway', type: 'string' }],
  },
  {
    code: 'IST0166',
    name: 'IneffectiveSelector',
    level: 'Warning',
    description: 'Selector has no effect when applied to Kubernetes Gateways.',
    template: 'Ineffective selector on Kubernetes Gateway %s. Use the TargetRef field instead.',
    args: [{ name: 'gateway', type: 'string' }],
  },
  {
    code: 'IST0167',
    name: 'IneffectivePolicy',
    level: 'Warning',
    description: 'The policy applied has no impact.',
    template: 'The policy has no impact: %s.',
    args: [{ name: 'reason', type: 'string' }],
  },
  {
    code: 'IST0168',
    name: 'UnknownUpgradeCompatibility',
    level: 'Warning',
    description: 'We cannot automatically detect whether a change is fully compatible or not',
    template: 'The configuration %q changed in release %s, but compatibility cannot be automatically detected: %s. Or, install with `--set compatibilityVersion=%s` to retain the old default.',
    args: [{ name: 'field', type: 'string' }, { name: 'release', type: 'string' }, { name: 'info', type: 'string' }, { name: 'compatVersion', type: 'string' }],
  },
  {
    code: 'IST0169',
    name: 'UpdateIncompatibility',
    level: 'Warning',
    description: 'The provided configuration object may be incompatible due to an upgrade',
    template: 'The configuration %q changed in release %s: %s. Or, install with `--set compatibilityVersion=%s` to retain the old default.',
    args: [{ name: 'field', type: 'string' }, { name: 'release', type: 'string' }, { name: 'info', type: 'string' }, { name: 'compatVersion', type: 'string' }],
  },
  {
    code: 'IST0170',
    name: 'MultiClusterInconsistentService',
    level: 'Warning',
    description: 'The services live in different clusters under multi-cluster deployment model are inconsistent',
    template: 'The service %v in namespace %q is inconsistent across clusters %q, which can lead to undefined behaviors. The inconsistent behaviors are: %v.',
    args: [{ name: 'serviceName', type: 'string' }, { name: 'namespace', type: 'string' }, { name: 'clusters', type: '[]string' }, { name: 'error', type: 'string' }],
  },
  {
    code: 'IST0171',
    name: 'NegativeConditionStatus',
    level: 'Warning',
    description: 'A condition with a negative status is present',
    template: 'A condition with a negative status is present: type=%s, reason=%s, message=%s.',
    args: [{ name: 'conditionType', type: 'string' }, { name: 'reason', type: 'string' }, { name: 'message', type: 'string' }],
  },
  {
    code: 'IST0172',
    name: 'FutureUnsupportedGatewayAPIVersion',
    level: 'Warning',
    description: 'The Gateway API CRD version will not be supported in the future',
    template: 'The Gateway API CRD version %v is lower than the minimum version: %v',
    args: [{ name: 'version', type: 'string' }, { name: 'minimumVersion', type: 'string' }],
  },
  {
    code: 'IST0173',
    name: 'DestinationRuleSubsetNotSelectPods',
    level: 'Error',
    description: 'Subsets defined in destination does not select any pods.',
    template: 'The Subset %s defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).',
    args: [{ name: 'subset', type: 'string' }],
  },
  {
    code: 'IST0174',
    name: 'UnknownDestinationRuleHost',
    level: 'Warning',
    description: 'Host defined in destination rule does not match any services in the mesh.',
    template: 'The host %s defined in the DestinationRule does not match any services in the mesh.',
    args: [{ name: 'host', type: 'string' }],
  },
  {
    code: 'IST0175',
    name: 'JwksUriFetchUnrestricted',
    level: 'Warning',
    description: 'RequestAuthentication resources exist but BLOCKED_CIDRS_IN_JWKS_URIS is not configured on istiod.',
    template: 'BLOCKED_CIDRS_IN_JWKS_URIS is not configured but %d RequestAuthentication resource(s) exist (%s). Consider configuring it to restrict JWKS URI fetches to trusted networks.',
    args: [{ name: 'count', type: 'int' }, { name: 'names', type: 'string' }],
  },
  {
    code: 'IST0176',
    name: 'GatewayAPICRDVersionBelowMinimum',
    level: 'Warning',
    description: 'A Gateway API CRD is installed at a version below the minimum required by this Istio version. Resources of this kind will not be processed.',
    template: 'Gateway API CRD %q is at version %q but Istio requires at least %q; resources of this kind will not be processed. Upgrade the Gateway API CRDs to satisfy the minimum version.',
    args: [{ name: 'crd', type: 'string' }, { name: 'installedVersion', type: 'string' }, { name: 'minimumVersion', type: 'string' }],
  },
  {
    code: 'IST0177',
    name: 'ConflictingServiceEntryProtocol',
    level: 'Warning',
    description: 'Multiple ServiceEntries define the same host and port with conflicting protocols.',
    template: 'Multiple ServiceEntries (%s) define the same host %q and port %d with conflicting protocols (%s).',
    args: [{ name: 'serviceEntryNames', type: 'string' }, { name: 'host', type: 'string' }, { name: 'port', type: 'int' }, { name: 'protocols', type: 'string' }],
  },
] as const satisfies readonly MessageType[];

export type MessageCode = (typeof MESSAGES)[number]['code'];
export type MessageName = (typeof MESSAGES)[number]['name'];

const BY_CODE = new Map<string, MessageType>(MESSAGES.map((m) => [m.code, m]));
const BY_NAME = new Map<string, MessageType>(MESSAGES.map((m) => [m.name, m]));

/** The message type for `code` (e.g. `IST0101`); undefined for unknown or retired codes. */
export function messageByCode(code: string): MessageType | undefined {
  return BY_CODE.get(code);
}

/** The message type named `name` (e.g. `ReferencedResourceNotFound`). */
export function messageByName(name: string): MessageType | undefined {
  return BY_NAME.get(name);
}

/** Arguments a template may take: Go strings, integers, errors (pass the message) and slices of those. */
export type MessageParam = string | number | readonly (string | number)[];

function goTypeName(v: MessageParam): string {
  if (Array.isArray(v)) return v.every((x) => typeof x === 'number') ? '[]int' : '[]string';
  return typeof v === 'number' ? 'int' : 'string';
}

function plain(v: string | number): string {
  return typeof v === 'number' ? String(v) : v;
}

function renderVerb(verb: string, v: MessageParam): string {
  if (Array.isArray(v)) {
    // Go formats each element with the verb and wraps the slice in brackets: %v of [a b] is `[a b]`.
    return `[${(v as readonly (string | number)[]).map((x) => renderVerb(verb, x)).join(' ')}]`;
  }
  const x = v as string | number;
  switch (verb) {
    case 's':
    case 'v':
      return plain(x);
    case 'q':
      return typeof x === 'number' ? `'${String.fromCodePoint(x)}'` : goQuote(x);
    case 'd':
      return typeof x === 'number' ? String(Math.trunc(x)) : `%!d(string=${x})`;
    default:
      return `%!${verb}(${goTypeName(x)}=${plain(x)})`;
  }
}

/** Renders a Go fmt template: `formatTemplate('Referenced %s not found: %q', ['host', 'a'])`. */
export function formatTemplate(template: string, params: readonly MessageParam[]): string {
  let out = '';
  let next = 0;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '%' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const verb = template[i + 1] as string;
    i++;
    if (verb === '%') {
      out += '%';
      continue;
    }
    const p = params[next];
    next++;
    out += p === undefined ? `%!${verb}(MISSING)` : renderVerb(verb, p);
  }
  if (next < params.length) {
    out += `%!(EXTRA ${params
      .slice(next)
      .map((p) => `${goTypeName(p)}=${renderVerb('v', p)}`)
      .join(', ')})`;
  }
  return out;
}

/** Renders the message for `code` with `params`, as `fmt.Sprintf(template, params...)` would. */
export function formatMessage(code: MessageCode, params: readonly MessageParam[]): string {
  const m = BY_CODE.get(code);
  if (m === undefined) throw new Error(`unknown analysis message code ${code}`);
  return formatTemplate(m.template, params);
}

/** istioctl's documentation link for a code: https://istio.io/latest/docs/reference/config/analysis/ist0101/ */
export function documentationUrl(code: string): string {
  return `https://istio.io/latest/docs/reference/config/analysis/${code.toLowerCase()}/`;
}
