// Which inbound filter chains a port gets, by mTLS mode and protocol (Istio's filterchain_options.go
// getFilterChainMatchOptions): plaintext HTTP and TCP chains under DISABLE, TLS-only chains under STRICT,
// both under PERMISSIVE, told apart by transport protocol and by the ALPNs an Istio client sends. A chain with
// `tls` set terminates mTLS with the context the mode's settings carry. The mode of a port comes from the
// workload's PeerAuthentication (Istio's plugin/authn Builder ForPort / ForPassthrough).

import type { DownstreamTlsContext } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { buildInboundTls, trustDomainsForValidation } from '../authn/inbound-tls.js';
import { mtlsModeForPort, peerAuthenticationForWorkload, type ComposedPeerAuthentication, type MtlsMode } from '../authn/peer-authentication.js';
import type { ProxyContext } from '../context.js';
import {
  ALL_ISTIO_MTLS_ALPNS,
  MTLS_HTTP_ALPNS,
  MTLS_TCP_WITH_MXC_ALPNS,
  PLAINTEXT_HTTP_ALPNS,
  RAW_BUFFER_TRANSPORT,
  TLS_TRANSPORT,
} from './well-known.js';

export type ChainProtocol = 'http' | 'tcp';
export type InboundListenerProtocol = ChainProtocol | 'auto';

/** PeerAuthentication's effective mode for one port (Istio's model.MutualTLSMode). */
export type { MtlsMode };

/** authn.MTLSSettings: the mode and the server TLS contexts for HTTP and TCP chains. */
export interface MtlsSettings {
  readonly port: number;
  readonly mode: MtlsMode;
  readonly http?: DownstreamTlsContext;
  readonly tcp?: DownstreamTlsContext;
}

export interface FilterChainMatchOption {
  readonly applicationProtocols: readonly string[];
  readonly transportProtocol: string;
  readonly protocol: ChainProtocol;
  /** Terminate TLS on this chain. */
  readonly tls: boolean;
}

const opt = (protocol: ChainProtocol, transportProtocol: string, applicationProtocols: readonly string[] = [], tls = false): FilterChainMatchOption => ({
  protocol,
  transportProtocol,
  applicationProtocols,
  tls,
});

const PERMISSIVE_AUTO = [
  opt('http', TLS_TRANSPORT, MTLS_HTTP_ALPNS, true),
  opt('http', RAW_BUFFER_TRANSPORT, PLAINTEXT_HTTP_ALPNS),
  opt('tcp', TLS_TRANSPORT, MTLS_TCP_WITH_MXC_ALPNS, true),
  opt('tcp', RAW_BUFFER_TRANSPORT),
  opt('tcp', TLS_TRANSPORT),
];
const PERMISSIVE_HTTP = [opt('http', TLS_TRANSPORT, ALL_ISTIO_MTLS_ALPNS, true), opt('http', RAW_BUFFER_TRANSPORT)];
const PERMISSIVE_TCP = [opt('tcp', TLS_TRANSPORT, ALL_ISTIO_MTLS_ALPNS, true), opt('tcp', TLS_TRANSPORT), opt('tcp', RAW_BUFFER_TRANSPORT)];
const STRICT_AUTO = [opt('http', TLS_TRANSPORT, MTLS_HTTP_ALPNS, true), opt('tcp', TLS_TRANSPORT, [], true)];
const STRICT_HTTP = [opt('http', TLS_TRANSPORT, [], true)];
const STRICT_TCP = [opt('tcp', TLS_TRANSPORT, [], true)];
const PLAIN_AUTO = [opt('http', RAW_BUFFER_TRANSPORT, PLAINTEXT_HTTP_ALPNS), opt('tcp', RAW_BUFFER_TRANSPORT)];
const PLAIN_HTTP = [opt('http', RAW_BUFFER_TRANSPORT)];
const PLAIN_TCP = [opt('tcp', RAW_BUFFER_TRANSPORT)];

export function filterChainMatchOptions(mode: MtlsMode, protocol: InboundListenerProtocol): readonly FilterChainMatchOption[] {
  switch (protocol) {
    case 'http':
      return mode === 'STRICT' ? STRICT_HTTP : mode === 'PERMISSIVE' ? PERMISSIVE_HTTP : PLAIN_HTTP;
    case 'auto':
      return mode === 'STRICT' ? STRICT_AUTO : mode === 'PERMISSIVE' ? PERMISSIVE_AUTO : PLAIN_AUTO;
    case 'tcp':
      return mode === 'STRICT' ? STRICT_TCP : mode === 'PERMISSIVE' ? PERMISSIVE_TCP : PLAIN_TCP;
  }
}

/** ToTransportSocket: the context a TLS chain terminates with; undefined for plaintext chains. */
export function tlsContextFor(o: FilterChainMatchOption, mtls: MtlsSettings): DownstreamTlsContext | undefined {
  if (!o.tls) return undefined;
  return o.protocol === 'http' ? mtls.http : mtls.tcp;
}

/** What the inbound builder knows about a proxy's PeerAuthentication (authn.Builder): computed once per proxy. */
export interface InboundAuthn {
  readonly peer: ComposedPeerAuthentication;
  /** TrustDomainsForValidation: client certificates of these trust domains are accepted. */
  readonly trustDomains: readonly string[];
}

/** authn.NewBuilder: the policies selecting the proxy's workload (its namespace and labels). */
export function inboundAuthnFor(ctx: ProxyContext): InboundAuthn {
  return {
    peer: peerAuthenticationForWorkload(ctx.snapshot, ctx.proxy.namespace, ctx.proxy.labels),
    trustDomains: trustDomainsForValidation(ctx.snapshot.mesh.trustDomain, ctx.snapshot.mesh.trustDomainAliases),
  };
}

/** InboundMTLSSettings (Builder.ForPort): the workload port's mode and, unless DISABLE, its TLS contexts. */
export function inboundMtlsSettings(authn: InboundAuthn, port: number): MtlsSettings {
  const mode = mtlsModeForPort(authn.peer, port);
  const http = buildInboundTls(mode, 'http', authn.trustDomains);
  const tcp = buildInboundTls(mode, 'tcp', authn.trustDomains);
  return { port, mode, ...(http !== undefined ? { http } : {}), ...(tcp !== undefined ? { tcp } : {}) };
}

/**
 * Builder.ForPassthrough: the catch-all settings (port 0, the workload-wide mode), then one per port-level
 * override on a port no inbound chain serves (`handled`: the Sidecar's ingress ports, else the service
 * target ports; needPerPortPassthroughFilterChain), so that port's own mode applies to passthrough traffic.
 * Istio walks a Go map here; ports are sorted for a stable chain order.
 */
export function passthroughMtlsSettings(authn: InboundAuthn, handled: ReadonlySet<number>): MtlsSettings[] {
  const out = [inboundMtlsSettings(authn, 0)];
  const ports = [...authn.peer.perPort.keys()].filter((p) => !handled.has(p)).sort((a, b) => a - b);
  for (const p of ports) out.push(inboundMtlsSettings(authn, p));
  return out;
}
