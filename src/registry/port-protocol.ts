// The protocol of a Kubernetes Service port as Istio infers it (pkg/config/kube/conversion.go
// ConvertProtocol): UDP stays UDP; else appProtocol (with Kubernetes' standard names), else the port name's
// prefix before '-' (`http-web` -> HTTP, `grpc-web*` -> GRPC-Web); the well-known ports 25, 53, 3306 and
// 27017 default to TCP. Anything else is left for the proxy to detect (undefined).

import { parseProtocol, type Protocol } from '../api/networking/protocol.js';

const WELL_KNOWN_TCP_PORTS = new Set([25, 53, 3306, 27017]);
const GRPC_WEB = 'grpc-web';

export function inferPortProtocol(port: number, portName: string, transport: string | undefined, appProtocol: string | undefined): Protocol | undefined {
  if (transport === 'UDP') return 'UDP';
  let name = portName;
  if (appProtocol !== undefined) {
    name = appProtocol;
    if (name === 'kubernetes.io/h2c') return 'HTTP2';
    if (name === 'kubernetes.io/ws') return 'HTTP';
    if (name === 'kubernetes.io/wss') return 'HTTPS';
  }
  if (name.length >= GRPC_WEB.length && name.slice(0, GRPC_WEB.length).toLowerCase() === GRPC_WEB) return 'GRPC-Web';
  const dash = name.indexOf('-');
  const p = parseProtocol(dash >= 0 ? name.slice(0, dash) : name);
  if (p === undefined && WELL_KNOWN_TCP_PORTS.has(port)) return 'TCP';
  return p;
}
