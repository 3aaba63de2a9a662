// The smallest gateway mesh the proxy suites run `isthmus proxy` processes against: a Gateway on `port`
// for every host, a VirtualService sending everything to `a.example.internal`, a ServiceEntry whose one
// endpoint is the test's upstream; and reading a proxy's Envoy-style /stats.

/**
 * Gateway `gw` (istio=ingressgateway) on `port`, routing every request to a ServiceEntry at
 * 127.0.0.1:`upstreamPort`, which speaks `protocol` (HTTP/1.1 by default; HTTP2: h2c, as a gRPC service).
 */
export function gatewayToUpstream(port: number, upstreamPort: number, protocol: 'HTTP' | 'HTTP2' = 'HTTP'): Record<string, string> {
  const portName = protocol.toLowerCase();
  return {
    'gw.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${port}, name: http, protocol: HTTP}
    hosts: ["*"]
`,
    'a.yaml': `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: ${portName}, protocol: ${protocol}}]
  endpoints: [{address: 127.0.0.1, ports: {${portName}: ${upstreamPort}}}]
`,
    'vs.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - route: [{destination: {host: a.example.internal, port: {number: 80}}}]
`,
  };
}

/** `name: value` lines of Envoy's text /stats, as a map. */
export async function adminStats(admin: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${admin}/stats`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\S+): (-?\d+)$/.exec(line);
    if (m !== null) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}
