// VirtualService match conditions and faults in a few words, as istioctl's describe renders them
// (renderMatch / renderStringMatch): a URI as `/exact` or `/prefix*`, then `when headers are k=v; k2=v2`.
// istioctl stops there; we also say the method, query parameters, port and source, which decide whether
// a request reaches the workload just as much. Keys are sorted so the output is stable.

import type { HTTPFaultInjection, HTTPMatchRequest, L4MatchAttributes, StringMatch, TLSMatchAttributes } from '../../api/networking/virtual-service.js';

export function renderStringMatch(m: StringMatch | undefined): string {
  if (m === undefined) return '';
  if (m.exact !== undefined) return m.exact;
  if (m.prefix !== undefined) return `${m.prefix}*`;
  if (m.regex !== undefined) return `regex:${JSON.stringify(m.regex)}`;
  return '';
}

function pairs(map: Readonly<Record<string, StringMatch>> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${renderStringMatch(map?.[k])}`)
    .join('; ');
}

function labelPairs(map: Readonly<Record<string, string>>): string {
  return Object.keys(map)
    .sort()
    .map((k) => `${k}=${map[k] ?? ''}`)
    .join(',');
}

/** One HTTP match condition; `everything` when it sets nothing. */
export function renderHttpMatch(m: HTTPMatchRequest): string {
  const parts: string[] = [];
  if (m.uri !== undefined) parts.push(`${renderStringMatch(m.uri)}${m.ignoreUriCase === true ? ' uncased' : ''}`);
  if (m.method !== undefined) parts.push(`method ${renderStringMatch(m.method)}`);
  if (m.authority !== undefined) parts.push(`authority ${renderStringMatch(m.authority)}`);
  if (Object.keys(m.headers ?? {}).length > 0) parts.push(`when headers are ${pairs(m.headers)}`);
  if (Object.keys(m.withoutHeaders ?? {}).length > 0) parts.push(`without headers ${pairs(m.withoutHeaders)}`);
  if (Object.keys(m.queryParams ?? {}).length > 0) parts.push(`when query params are ${pairs(m.queryParams)}`);
  if (m.port !== undefined) parts.push(`on port ${m.port}`);
  if (m.sourceLabels !== undefined && Object.keys(m.sourceLabels).length > 0) parts.push(`from workloads ${labelPairs(m.sourceLabels)}`);
  if (m.sourceNamespace !== undefined) parts.push(`from namespace ${m.sourceNamespace}`);
  return parts.length === 0 ? 'everything' : parts.join(' ');
}

/** One TCP or TLS match condition. */
export function renderL4Match(m: L4MatchAttributes | TLSMatchAttributes): string {
  const parts: string[] = [];
  if ('sniHosts' in m && m.sniHosts !== undefined && m.sniHosts.length > 0) parts.push(`SNI ${m.sniHosts.join(',')}`);
  if (m.port !== undefined) parts.push(`on port ${m.port}`);
  if (m.destinationSubnets !== undefined && m.destinationSubnets.length > 0) parts.push(`to ${m.destinationSubnets.join(',')}`);
  if ('sourceSubnet' in m && m.sourceSubnet !== undefined) parts.push(`from ${m.sourceSubnet}`);
  if (m.sourceLabels !== undefined && Object.keys(m.sourceLabels).length > 0) parts.push(`from workloads ${labelPairs(m.sourceLabels)}`);
  if (m.sourceNamespace !== undefined) parts.push(`from namespace ${m.sourceNamespace}`);
  return parts.length === 0 ? 'everything' : parts.join(' ');
}

function percent(p: { value?: number | undefined } | undefined, legacy?: number): string {
  // Istio: no percentage means every request (the fault filter's default of 100%).
  const v = p?.value ?? legacy ?? 100;
  return `${v}%`;
}

/** `delay 7s (100%)`, `abort 500 (50%)`; undefined without a fault. */
export function renderFault(f: HTTPFaultInjection | undefined): string | undefined {
  if (f === undefined) return undefined;
  const parts: string[] = [];
  if (f.delay !== undefined) {
    const d = f.delay.fixedDelay ?? f.delay.exponentialDelay ?? '?';
    parts.push(`delay ${d} (${percent(f.delay.percentage, f.delay.percent)})`);
  }
  if (f.abort !== undefined) {
    const what = f.abort.httpStatus !== undefined ? String(f.abort.httpStatus) : f.abort.grpcStatus !== undefined ? `grpc ${f.abort.grpcStatus}` : f.abort.http2Error !== undefined ? `http2 ${f.abort.http2Error}` : '?';
    parts.push(`abort ${what} (${percent(f.abort.percentage)})`);
  }
  return parts.length === 0 ? undefined : parts.join(', ');
}
