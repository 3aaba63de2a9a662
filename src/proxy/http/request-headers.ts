// The connection manager's request header processing, as Envoy's ConnectionManagerUtility::
// mutateRequestHeaders (source/common/http/conn_manager_utility.cc) does it: x-forwarded-*, whether the request
// is internal or external and what follows from that, via, x-request-id and XFCC.
// - With use_remote_address the client is the peer (or, with xff_num_trusted_hops, the address that many hops
//   back in the x-forwarded-for the client sent), XFF gets the peer appended, and x-forwarded-proto (and
//   x-forwarded-port, with append_x_forwarded_port) are overwritten unless a trusted hop set them.
// - A request is internal only with use_remote_address, no x-forwarded-for from the client and a client
//   address in internal_address_config (unset: no address is internal, Envoy's default since 1.36): it gets
//   `x-envoy-internal: true`. Every other request loses the x-envoy-* headers that steer the proxy (retries,
//   timeouts, forced traces; CVE-2024-45806 was external clients setting them) and the route table's
//   internal_only_headers; an edge request (not internal, with use_remote_address) also loses the downstream
//   service headers, and is the one given x-envoy-external-address and, unless preserve_external_request_id,
//   a new x-request-id. A client's own `x-envoy-internal` is always removed.

import { isIP } from 'node:net';
import type { CompiledHcm } from '../runtime/compile-hcm.js';
import type { DownstreamRequest } from './http-stream.js';
import { appendVia, type HeaderMap } from './headers.js';
import { mutateXfcc } from './xfcc.js';
import { randomRequestId } from '../lib/request-id.js';

/** Removed from every request that is not internal (cleanInternalHeaders). */
const CONTROL_HEADERS: ReadonlySet<string> = new Set([
  'x-envoy-retriable-status-codes',
  'x-envoy-retriable-header-names',
  'x-envoy-retry-on',
  'x-envoy-retry-grpc-on',
  'x-envoy-max-retries',
  'x-envoy-upstream-alt-stat-name',
  'x-envoy-upstream-rq-timeout-ms',
  'x-envoy-upstream-rq-per-try-timeout-ms',
  'x-envoy-upstream-rq-timeout-alt-response',
  'x-envoy-expected-rq-timeout-ms',
  'x-envoy-force-trace',
  'x-envoy-ip-tags',
  'x-envoy-original-url',
  'x-envoy-hedge-on-per-try-timeout',
]);

/** Removed from edge requests too. */
const EDGE_HEADERS: ReadonlySet<string> = new Set(['x-envoy-decorator-operation', 'x-envoy-downstream-service-cluster', 'x-envoy-downstream-service-node']);

type Settings = Pick<
  CompiledHcm,
  'useRemoteAddress' | 'xffNumTrustedHops' | 'skipXffAppend' | 'appendXForwardedPort' | 'internalAddresses' | 'via' | 'xfcc' | 'generateRequestId' | 'preserveExternalRequestId'
>;

function joined(v: string | string[]): string {
  return typeof v === 'string' ? v : v.join(',');
}

/** Envoy's Utility::getLastAddressFromXFF: the entry `skip` places from the right, if it is an IP address. */
function xffEntry(xff: string | string[] | undefined, skip: number): string | undefined {
  if (xff === undefined) return undefined;
  const parts = joined(xff).split(',');
  const entry = parts[parts.length - 1 - skip]?.trim();
  return entry !== undefined && isIP(entry) !== 0 ? entry : undefined;
}

/** ConnectionManagerUtility::cleanInternalHeaders. */
export function cleanInternalHeaders(h: HeaderMap, edge: boolean, internalOnly: readonly string[]): void {
  // Most requests carry none of them: one pass over the names the request has, not a lookup per name.
  for (const k in h) {
    if (k.length > 8 && k.charCodeAt(0) === 120 /* x */ && k.startsWith('x-envoy-') && (CONTROL_HEADERS.has(k) || (edge && EDGE_HEADERS.has(k)))) delete h[k];
  }
  for (let i = 0; i < internalOnly.length; i++) {
    const k = internalOnly[i] as string;
    if (h[k] !== undefined) delete h[k];
  }
}

const NONE: readonly string[] = [];

/**
 * Mutates `r`'s headers as the connection manager forwards them; `internalOnly` is the route table's
 * internal_only_headers (lower case).
 */
export function mutateRequestHeaders(r: DownstreamRequest, c: Settings, internalOnly: readonly string[] = NONE): void {
  const h = r.headers;
  if (h['x-envoy-internal'] !== undefined) delete h['x-envoy-internal'];
  let client: string | undefined;
  let trusted = false;
  if (c.useRemoteAddress) {
    const xff = h['x-forwarded-for'];
    trusted = xff === undefined;
    if (c.xffNumTrustedHops > 0) client = xffEntry(xff, c.xffNumTrustedHops - 1);
    client ??= r.remoteAddress;
    if (!c.skipXffAppend) h['x-forwarded-for'] = xff === undefined ? r.remoteAddress : `${joined(xff)},${r.remoteAddress}`;
    if (c.xffNumTrustedHops === 0 || h['x-forwarded-proto'] === undefined) h['x-forwarded-proto'] = r.scheme;
    if (c.appendXForwardedPort && (c.xffNumTrustedHops === 0 || h['x-forwarded-port'] === undefined)) h['x-forwarded-port'] = String(r.localPort);
  }
  if (h['x-forwarded-proto'] === undefined) h['x-forwarded-proto'] = r.scheme;
  if (c.appendXForwardedPort && h['x-forwarded-port'] === undefined) h['x-forwarded-port'] = String(r.localPort);
  const internal = trusted && client !== undefined && c.internalAddresses !== undefined && c.internalAddresses(client);
  const edge = !internal && c.useRemoteAddress;
  if (internal) h['x-envoy-internal'] = 'true';
  else cleanInternalHeaders(h, edge, internalOnly);
  if (c.via !== '') h['via'] = appendVia(h['via'], c.via);
  if (edge && client !== undefined && isIP(client) !== 0) h['x-envoy-external-address'] = client;
  if (c.generateRequestId && (h['x-request-id'] === undefined || (edge && !c.preserveExternalRequestId))) h['x-request-id'] = randomRequestId();
  mutateXfcc(h, c.xfcc, r.peer);
}
