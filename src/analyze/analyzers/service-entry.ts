// serviceentry.Analyzer: ServiceEntries with TCP (or unset-protocol) ports but no addresses, which only
// work when Istio allocates addresses (IST0134).
// Source: istio/istio pkg/config/analysis/analyzers/serviceentry/protocoladdresses.go.

import { SERVICE_ENTRY } from '../../api/networking/service-entry.js';
import type { Analyzer, MeshConfigView } from '../framework.js';

/** DNS capture with auto-allocation in the mesh's default proxy metadata allocates addresses everywhere. */
function meshAutoAllocates(mesh: MeshConfigView): boolean {
  const md = mesh.defaultConfig?.proxyMetadata ?? {};
  if (md['ISTIO_META_DNS_CAPTURE'] !== 'true') return false;
  return md['ISTIO_META_DNS_AUTO_ALLOCATE'] === 'true' || md['PILOT_ENABLE_IP_AUTOALLOCATE'] === 'true';
}

/** Istio already allocated addresses (status.addresses). */
function addressAllocated(status: unknown): boolean {
  if (typeof status !== 'object' || status === null) return false;
  const a = (status as { addresses?: unknown }).addresses;
  return Array.isArray(a) && a.length > 0;
}

export const serviceEntryAddressesAnalyzer: Analyzer = {
  name: 'serviceentry.Analyzer',
  description: 'Checks the validity of ServiceEntry',
  inputs: ['networking.istio.io/ServiceEntry', 'networking.istio.io/MeshConfig'],
  analyze(ctx) {
    const auto = meshAutoAllocates(ctx.meshConfig);
    for (const e of ctx.list(SERVICE_ENTRY)) {
      const spec = e.resource.spec;
      // Istio tests `Addresses == nil`: an explicit empty list counts as set.
      if (spec.addresses !== undefined || addressAllocated(e.resource.status) || auto) continue;
      (spec.ports ?? []).forEach((p, i) => {
        const proto = p.protocol ?? '';
        if (proto === '' || proto.toUpperCase() === 'TCP') ctx.report('IST0134', e, [], `spec.ports[${i}].name`);
      });
    }
  },
};
