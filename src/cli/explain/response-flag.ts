// The response flag an answer shows, read from Envoy's local replies as the client sees them (bodies
// and headers listed in docs/proxy.md "Errors as Envoy sends them"): `no healthy upstream` is UH,
// `fault filter abort` FI, `upstream connect error … overflow` UO, `… remote connection failure` UF
// (URX when retried), `… connection termination` UC, `upstream request timeout` UT, an empty 404 from
// the proxy (no x-envoy-upstream-service-time) NR. An answer from the upstream itself shows no flag.

export interface ObservedResponse {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: string;
}

export function inferResponseFlag(r: ObservedResponse): string | undefined {
  const body = r.body.trim();
  if (body === 'no healthy upstream') return 'UH';
  if (body === 'fault filter abort' || r.headers['grpc-message'] === 'fault%20filter%20abort') return 'FI';
  if (body === 'upstream request timeout') return 'UT';
  if (body.startsWith('upstream connect error or disconnect/reset before headers.')) {
    if (body.includes('reset reason: overflow') || r.headers['x-envoy-overloaded'] === 'true') return 'UO';
    const retried = body.includes('retried and the latest reset reason');
    if (body.includes('connection failure')) return retried ? 'UF,URX' : 'UF';
    if (body.includes('connection termination')) return retried ? 'UC,URX' : 'UC';
    return undefined;
  }
  // Upstream answers carry x-envoy-upstream-service-time; the proxy's own 404 (no route, no listener) does not.
  if (r.status === 404 && body === '' && r.headers['x-envoy-upstream-service-time'] === undefined) return 'NR';
  return undefined;
}
