// The TCP (L3/L4) health check probe, after Envoy's TcpHealthCheckerImpl
// (source/extensions/health_checkers/tcp/health_checker_impl.cc):
// - with no `receive` payloads it is connect-only: a connection that opens passes, and is closed at once;
// - otherwise each check writes `send` (preceded by a PROXY protocol header when configured) and passes
//   once the bytes read so far contain every `receive` segment in order; unmatched bytes are kept until a
//   match (a partial reply may complete later) and dropped on a match;
// - an unexpected close of the connection, even between checks, is a network failure;
// - with reuse_connection (the default) the connection stays open for the next check.

import { connect as netConnect, type Socket } from 'node:net';
import type { TcpProbeConfig } from './health-checker-config.js';
import { payloadMatches } from './health-checker-payload.js';
import { NETWORK_FAILURE, SUCCESS, tlsOptions, type Probe, type ProbeReport, type ProbeTarget } from './health-checker-probe.js';
import { tlsConnectUpstream } from './upstream-tls-options.js';

const PROXY_V2_LOCAL = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00]);

function proxyV1(s: Socket): Buffer {
  const family = s.remoteFamily === 'IPv6' ? 'TCP6' : 'TCP4';
  return Buffer.from(`PROXY ${family} ${s.localAddress ?? ''} ${s.remoteAddress ?? ''} ${s.localPort ?? 0} ${s.remotePort ?? 0}\r\n`);
}

export class TcpProbe implements Probe {
  #socket: Socket | undefined;
  #connected = false;
  #buffer: Buffer = Buffer.alloc(0);
  #closed = false;

  constructor(
    private readonly config: TcpProbeConfig,
    private readonly target: ProbeTarget,
    private readonly report: ProbeReport,
  ) {}

  run(): void {
    if (this.#closed) return;
    if (this.#socket !== undefined) {
      if (this.#connected) this.#write(this.#socket);
      return;
    }
    const tls = tlsOptions(this.target, []);
    if (!tls.ok) {
      this.report(NETWORK_FAILURE);
      return;
    }
    const opts = { host: this.target.address, port: this.target.port, ...(this.target.localAddress !== undefined ? { localAddress: this.target.localAddress } : {}) };
    const s = tls.options !== undefined ? tlsConnectUpstream({ ...opts, ...tls.options }) : netConnect(opts);
    this.#socket = s;
    this.#connected = false;
    this.#buffer = Buffer.alloc(0);
    s.setNoDelay(true);
    s.once(tls.options !== undefined ? 'secureConnect' : 'connect', () => {
      if (this.#socket !== s) return;
      this.#connected = true;
      if (this.config.receive.length === 0) {
        // Connect-only: passing means the connection opened; it is closed right away either way.
        this.#drop(s);
        this.report(SUCCESS);
        return;
      }
      this.#write(s);
    });
    s.on('data', (chunk: Buffer) => {
      if (this.#socket !== s) return;
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      if (!payloadMatches(this.config.receive, this.#buffer)) return;
      this.#buffer = Buffer.alloc(0);
      if (!this.target.reuseConnection) this.#drop(s);
      this.report(SUCCESS);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.#socket !== s) return;
      this.#socket = undefined;
      this.report(NETWORK_FAILURE);
    });
  }

  #write(s: Socket): void {
    const parts: Buffer[] = [];
    if (this.config.proxyProtocol === 'v1') parts.push(proxyV1(s));
    else if (this.config.proxyProtocol === 'v2') parts.push(PROXY_V2_LOCAL);
    if (this.config.send !== undefined) parts.push(this.config.send);
    if (parts.length > 0) s.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
  }

  /** Closes `s` as an expected close: no failure is reported for it. */
  #drop(s: Socket): void {
    if (this.#socket === s) this.#socket = undefined;
    s.destroy();
  }

  abort(): void {
    if (this.#socket !== undefined) this.#drop(this.#socket);
  }

  close(): void {
    this.#closed = true;
    this.abort();
  }
}
