// Port protocols as Istio parses them (istio/istio pkg/config/protocol/instance.go): protocol.Parse, the
// IsHTTP/IsTCP/IsTLS classes, and ValidateProtocol (pkg/config/validation/agent/validation.go). Used by
// the Gateway, Sidecar and ServiceEntry ports.

/** Protocols Istio's `protocol.Parse` knows, in its canonical spelling. */
export type Protocol = 'TCP' | 'UDP' | 'GRPC' | 'GRPC-Web' | 'HTTP' | 'HTTP_PROXY' | 'HTTP2' | 'HTTPS' | 'TLS' | 'Mongo' | 'Redis' | 'MySQL';

const PROTOCOLS: Readonly<Record<string, Protocol>> = {
  tcp: 'TCP',
  udp: 'UDP',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-Web',
  http: 'HTTP',
  http_proxy: 'HTTP_PROXY',
  http2: 'HTTP2',
  https: 'HTTPS',
  tls: 'TLS',
  mongo: 'Mongo',
  redis: 'Redis',
  mysql: 'MySQL',
};

/** Istio's protocol.Parse: case-insensitive; undefined for an unsupported protocol (Istio's Unsupported, including ""). */
export function parseProtocol(s: string): Protocol | undefined {
  return PROTOCOLS[s.toLowerCase()];
}

/** protocol.Instance.IsHTTP: carried over HTTP (HTTP, HTTP2, HTTP_PROXY, GRPC, GRPC-Web). */
export function isHttpProtocol(p: Protocol | undefined): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'HTTP_PROXY' || p === 'GRPC' || p === 'GRPC-Web';
}

/** protocol.Instance.IsTCP: raw TCP streams (TCP, HTTPS, TLS, Mongo, Redis, MySQL). */
export function isTcpProtocol(p: Protocol | undefined): boolean {
  return p === 'TCP' || p === 'HTTPS' || p === 'TLS' || p === 'Mongo' || p === 'Redis' || p === 'MySQL';
}

/** protocol.Instance.IsTLS: on top of TLS (HTTPS, TLS). */
export function isTlsProtocol(p: Protocol | undefined): boolean {
  return p === 'HTTPS' || p === 'TLS';
}

/** Istio's ValidateProtocol: empty means "sniff"; anything else must parse. */
export function protocolErrors(protocol: string): string[] {
  return protocol !== '' && parseProtocol(protocol) === undefined ? [`unsupported protocol: ${protocol}`] : [];
}
