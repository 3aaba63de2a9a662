// Small checks shared by the networking.istio.io workload kinds (DestinationRule subsets, ServiceEntry,
// WorkloadEntry, WorkloadGroup): Istio's label-map validation, port names, port protocols and unix socket
// addresses, with Istio's own wording. Istio's rules here differ from Kubernetes' (names.ts): its
// DNS-1123 label accepts upper case (istio/istio pkg/config/labels/instance.go).

/** istio/istio pkg/config/labels/instance.go dns1123LabelFmt (note: upper case allowed). */
const ISTIO_DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const QUALIFIED_NAME = '(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const DNS_PREFIX = '[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)*/';
const TAG_KEY = new RegExp(`^(${DNS_PREFIX})?(${QUALIFIED_NAME})$`);
const LABEL_VALUE = new RegExp(`^(${QUALIFIED_NAME})?$`);

/** Istio's labels.IsDNS1123Label: at most 63 characters, letters of either case, digits and '-'. */
export function isIstioDns1123Label(s: string): boolean {
  return s.length <= 63 && ISTIO_DNS1123_LABEL.test(s);
}

/** One problem found in a label map, keyed by the label it concerns. */
export interface LabelProblem {
  readonly key: string;
  readonly message: string;
}

/** Istio's labels.Instance.Validate (pkg/config/labels/instance.go): tag keys and values. */
export function istioLabelsProblems(labels: Readonly<Record<string, string>> | undefined): LabelProblem[] {
  const out: LabelProblem[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    const m = TAG_KEY.exec(k);
    if (m === null) out.push({ key: k, message: `invalid tag key: ${JSON.stringify(k)}` });
    else if ((m[1] ?? '').length - 1 > 253) out.push({ key: k, message: `invalid tag key: ${JSON.stringify(k)} (DNS prefix is too long)` });
    else if ((m[2] ?? '').length > 63) out.push({ key: k, message: `invalid tag key: ${JSON.stringify(k)} (name is too long)` });
    if (!LABEL_VALUE.test(v)) out.push({ key: k, message: `invalid tag value: ${JSON.stringify(v)}` });
  }
  return out;
}

/** Istio's ValidatePortName (validation.go). */
export function portNameErrors(name: string): string[] {
  return isIstioDns1123Label(name) ? [] : [`invalid port name: ${name}`];
}

/** Protocols as Istio parses them, case-insensitively (pkg/config/protocol/instance.go Parse). */
export type Protocol =
  | 'TCP'
  | 'UDP'
  | 'GRPC'
  | 'GRPC-Web'
  | 'HTTP'
  | 'HTTP_PROXY'
  | 'HTTP2'
  | 'HTTPS'
  | 'TLS'
  | 'Mongo'
  | 'Redis'
  | 'MySQL'
  | 'UnsupportedProtocol';

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

export function parseProtocol(s: string): Protocol {
  return PROTOCOLS[s.toLowerCase()] ?? 'UnsupportedProtocol';
}

export function isHttpProtocol(p: Protocol): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'HTTP_PROXY' || p === 'GRPC' || p === 'GRPC-Web';
}

export function isTcpProtocol(p: Protocol): boolean {
  return p === 'TCP' || p === 'HTTPS' || p === 'TLS' || p === 'Mongo' || p === 'Redis' || p === 'MySQL';
}

export function isTlsProtocol(p: Protocol): boolean {
  return p === 'HTTPS' || p === 'TLS';
}

/** Istio's ValidateProtocol: empty means "sniff"; anything else must parse. */
export function protocolErrors(protocol: string): string[] {
  return protocol !== '' && parseProtocol(protocol) === 'UnsupportedProtocol' ? [`unsupported protocol: ${protocol}`] : [];
}

export const UNIX_ADDRESS_PREFIX = 'unix://';

/** Istio's ValidateUnixAddress, given the address without its `unix://` prefix. */
export function unixAddressErrors(addr: string): string[] {
  if (addr.length === 0) return ['unix address must not be empty'];
  if (addr.startsWith('@')) return [];
  if (!addr.startsWith('/') || addr.endsWith('/')) return [`${addr} is not an absolute path to a file`];
  return [];
}
