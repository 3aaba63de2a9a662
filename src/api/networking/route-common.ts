// The parts of VirtualService routes that HTTP, TCP and TLS routes share (istio/api
// networking/v1alpha3/virtual_service.proto Destination and PortSelector) and Istio's checks on them
// (validateDestination, validateWeight / validate*RouteDestinations and validateGatewayNames in istio/istio
// pkg/config/validation/virtualservice.go and validation.go). Sidecar's `egressProxy` is a Destination too.

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { obj, uint32, z } from '../schema.js';
import { fqdnErrors, portErrors, wildcardDomainErrors } from '../validation/common.js';
import { goQuote } from '../validation/go-format.js';
import { isIstioDns1123Label } from '../validation/istio-labels.js';

export const PortSelectorSchema = obj({ number: uint32.optional() });
export type PortSelector = z.infer<typeof PortSelectorSchema>;

/** `host` is REQUIRED in the API; kept optional here so Istio's own message reports it (empty domain name). */
export const DestinationSchema = obj({
  host: z.string().optional(),
  subset: z.string().optional(),
  port: PortSelectorSchema.optional(),
});
export type Destination = z.infer<typeof DestinationSchema>;

/** validateDestination */
export function destinationIssues(path: string, d: Destination | undefined): Issue[] {
  if (d === undefined) return [];
  const out: Issue[] = [];
  const host = d.host ?? '';
  if (host === '*') out.push(error(at(path, 'host'), `invalid destination host ${host}`));
  else for (const m of wildcardDomainErrors(host)) out.push(error(at(path, 'host'), m));
  if (d.subset !== undefined && d.subset !== '' && !isIstioDns1123Label(d.subset))
    out.push(error(at(path, 'subset'), `subset name is invalid: ${d.subset}`));
  if (d.port !== undefined) for (const m of portErrors(d.port.number ?? 0)) out.push(error(at(at(path, 'port'), 'number'), m));
  return out;
}

/** validateWeight and the total-weight rule shared by HTTP, TCP and TLS routes (validate*RouteDestinations). */
export function routeDestinationIssues(
  path: string,
  routes: readonly { destination?: Destination | undefined; weight?: number | undefined }[] | undefined,
  gatewaySemantics: boolean,
): Issue[] {
  const out: Issue[] = [];
  let total = 0;
  for (const [i, r] of (routes ?? []).entries()) {
    const p = at(path, i);
    if (r.destination === undefined) out.push(error(at(p, 'destination'), 'destination is required'));
    if (!gatewaySemantics) out.push(...destinationIssues(at(p, 'destination'), r.destination));
    const w = r.weight ?? 0;
    if (w < 0) out.push(error(at(p, 'weight'), `weight ${w} < 0`));
    total += w;
  }
  if ((routes?.length ?? 0) > 1 && total === 0) out.push(error(path, 'total destination weight = 0'));
  return out;
}

/**
 * validateGatewayNames: `namespace/name`, or a legacy `name[.namespace...]` FQDN (with a warning). Istio
 * stops at the first name without a slash (its loop returns there), so later names are not checked; kept.
 * `keepWarnings` is false where Istio folds the result with appendErrors, which drops warnings.
 */
export function gatewayNamesIssues(path: string, names: readonly string[] | undefined, gatewaySemantics: boolean, keepWarnings: boolean): Issue[] {
  const out: Issue[] = [];
  for (const [i, name] of (names ?? []).entries()) {
    const p = at(path, i);
    const slash = name.indexOf('/');
    if (slash < 0) {
      if (name.includes('.') && keepWarnings) {
        const parts = name.split('.');
        const recommended = `${parts[1] ?? ''}/${parts[0] ?? ''}`;
        out.push(warning(p, `using legacy gatewayName format ${goQuote(name)}; prefer the <namespace>/<name> format: ${goQuote(recommended)}`));
      }
      for (const m of fqdnErrors(name)) out.push(error(p, m));
      return out;
    }
    const ns = name.slice(0, slash);
    const gw = name.slice(slash + 1);
    if (ns.length === 0 || gw.length === 0) out.push(error(p, 'config namespace and gateway name cannot be empty'));
    if (!isIstioDns1123Label(ns)) out.push(error(p, `invalid value for namespace: ${goQuote(ns)}`));
    if (!isIstioDns1123Label(gw) && !gatewaySemantics) out.push(error(p, `invalid value for gateway name: ${goQuote(gw)}`));
  }
  return out;
}
