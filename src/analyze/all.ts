// Every analyzer `isthmus analyze` runs, in Istio's order (pkg/config/analysis/analyzers/all.go), and
// the list for `--list-analyzers`.

import type { Analyzer } from './framework.js';
import { annotationsAnalyzer } from './analyzers/annotations.js';
import { authorizationPoliciesAnalyzer } from './analyzers/authorization-policy.js';
import { caCertificateAnalyzer, subsetSelectPodAnalyzer } from './analyzers/destination-rule.js';
import { conflictingGatewayAnalyzer, ingressGatewayPortAnalyzer, secretAnalyzer } from './analyzers/gateway.js';
import { schemaValidationAnalyzer } from './analyzers/schema.js';
import { portNameAnalyzer } from './analyzers/service.js';
import { serviceEntryAddressesAnalyzer } from './analyzers/service-entry.js';
import { sidecarSelectorAnalyzer } from './analyzers/sidecar.js';
import { telemetryProviderAnalyzer } from './analyzers/telemetry.js';
import {
  conflictingMeshGatewayHostsAnalyzer,
  destinationHostAnalyzer,
  destinationRuleAnalyzer,
  gatewayAnalyzer,
} from './analyzers/virtual-service.js';

export const ALL_ANALYZERS: readonly Analyzer[] = [
  annotationsAnalyzer,
  authorizationPoliciesAnalyzer,
  caCertificateAnalyzer,
  subsetSelectPodAnalyzer,
  ingressGatewayPortAnalyzer,
  secretAnalyzer,
  conflictingGatewayAnalyzer,
  portNameAnalyzer,
  sidecarSelectorAnalyzer,
  conflictingMeshGatewayHostsAnalyzer,
  destinationHostAnalyzer,
  destinationRuleAnalyzer,
  gatewayAnalyzer,
  serviceEntryAddressesAnalyzer,
  telemetryProviderAnalyzer,
  schemaValidationAnalyzer,
];
