// An envoy.config.core.v3.Address as Envoy's Address::asString() prints it in admin text output:
// `ip:port`, `[ipv6]:port`, or a pipe's path.

import type { Address } from '../../xds/gen/envoy/config/core/v3/address_pb.js';

export function formatAddress(a: Address | undefined): string {
  if (a?.address.case === 'socketAddress') {
    const s = a.address.value;
    const port = s.portSpecifier.case === 'portValue' ? s.portSpecifier.value : 0;
    return `${s.address.includes(':') ? `[${s.address}]` : s.address}:${port}`;
  }
  if (a?.address.case === 'pipe') return a.address.value.path;
  return '';
}
