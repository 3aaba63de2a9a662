// telemetry.ProviderAnalyzer: access logging without providers when the mesh has no default access-log
// provider, which Istio ignores (IST0157).
// Source: istio/istio pkg/config/analysis/analyzers/telemetry/providers.go.

import { TELEMETRY } from '../../api/telemetry/telemetry.js';
import type { Analyzer } from '../framework.js';

export const telemetryProviderAnalyzer: Analyzer = {
  name: 'telemetry.ProviderAnalyzer',
  description: 'Validates that providers in telemetry resource is valid',
  inputs: ['telemetry.istio.io/Telemetry', 'networking.istio.io/MeshConfig'],
  analyze(ctx) {
    if ((ctx.meshConfig.defaultProviders?.accessLogging ?? []).length > 0) return;
    for (const e of ctx.list(TELEMETRY)) {
      (e.resource.spec.accessLogging ?? []).forEach((l, i) => {
        if (l.disabled === true) return;
        if ((l.providers ?? []).length === 0)
          ctx.report('IST0157', e, [e.resource.metadata.name, e.resource.metadata.namespace ?? ''], `spec.accessLogging[${i}]`);
      });
    }
  },
};
