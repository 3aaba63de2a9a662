// Which listener a connection reaches (virtualOutbound with use_original_dst hand-off, virtualInbound,
// or a listener bound to the port) and what its listener filters reveal: whether tls_inspector or
// http_inspector run for this port (filter_disabled predicates), and the ALPN a client offers by default.
// The proxyless api_listener lookup lives in run.ts, next to its only caller.

import { isIP } from 'node:net';
import { VIRTUAL_INBOUND_LISTENER, VIRTUAL_OUTBOUND_LISTENER } from '../../../src/xds/names.js';
import type { Listener } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { ListenerFilterChainMatchPredicate } from '../../../src/xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { Address } from '../../../src/xds/gen/envoy/config/core/v3/address_pb.js';
import { Stop } from './stop.js';
import type { CallMode, CallProtocol, TlsMode } from './types.js';

export const TLS_INSPECTOR = ['envoy.filters.listener.tls_inspector', 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector'];
export const HTTP_INSPECTOR = ['envoy.filters.listener.http_inspector', 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector'];

/**
 * Captured outbound traffic lands on virtualOutbound; with use_original_dst Envoy hands the connection to the
 * listener whose address is the original destination ip:port, else 0.0.0.0:port, else keeps it
 * (Listener.use_original_dst). Inbound capture lands on virtualInbound, which never hands off (Istio sets no
 * use_original_dst there). Without capture a connection reaches only listeners bound to the port.
 */
export function selectListener(listeners: readonly Listener[], mode: CallMode, dst: string, port: number, trace: string[]): Listener {
  const byAddress = (bound: boolean): Listener | undefined => {
    const pool = listeners.filter((l) => l.apiListener === undefined && (!bound || l.bindToPort !== false));
    return pool.find((l) => listenerAddresses(l).some((a) => a.port === port && a.ip === dst)) ??
      pool.find((l) => listenerAddresses(l).some((a) => a.port === port && isWildcardFor(a.ip, dst)));
  };
  const capture = mode === 'outbound' ? VIRTUAL_OUTBOUND_LISTENER : mode === 'inbound' ? VIRTUAL_INBOUND_LISTENER : undefined;
  const virtual = capture === undefined ? undefined : listeners.find((l) => l.name === capture);
  if (virtual !== undefined) {
    if (mode === 'outbound' && virtual.useOriginalDst === true) {
      const target = byAddress(false);
      if (target !== undefined && target !== virtual) {
        trace.push(`listener ${target.name}: original destination ${dst}:${port} handed off from ${virtual.name}`);
        return target;
      }
    }
    trace.push(`listener ${virtual.name}: captured ${mode} traffic`);
    return virtual;
  }
  const bound = byAddress(true);
  if (bound === undefined) throw new Stop('no listener', `no listener bound to ${dst}:${port}${capture !== undefined ? ` and no ${capture}` : ''}`);
  trace.push(`listener ${bound.name}: bound to port ${port}`);
  return bound;
}

function listenerAddresses(l: Listener): { ip: string; port: number }[] {
  const out: { ip: string; port: number }[] = [];
  const add = (a: Address | undefined): void => {
    if (a?.address.case !== 'socketAddress') return;
    const s = a.address.value;
    if (s.portSpecifier.case === 'portValue') out.push({ ip: s.address, port: s.portSpecifier.value });
  };
  add(l.address);
  for (const extra of l.additionalAddresses) add(extra.address);
  return out;
}

function isWildcardFor(listenIp: string, dst: string): boolean {
  if (listenIp === '0.0.0.0') return isIP(dst) === 4;
  return listenIp === '::';
}

export function hasListenerFilter(l: Listener, ids: readonly string[], port: number): boolean {
  return l.listenerFilters.some((f) => {
    const typeUrl = f.configType.case === 'typedConfig' ? f.configType.value.typeUrl : '';
    if (!ids.includes(f.name) && !ids.includes(typeUrl)) return false;
    return f.filterDisabled === undefined || !predicateMatches(f.filterDisabled, port);
  });
}

function predicateMatches(p: ListenerFilterChainMatchPredicate, port: number): boolean {
  switch (p.rule.case) {
    case 'orMatch':
      return p.rule.value.rules.some((x) => predicateMatches(x, port));
    case 'andMatch':
      return p.rule.value.rules.every((x) => predicateMatches(x, port));
    case 'notMatch':
      return !predicateMatches(p.rule.value, port);
    case 'anyMatch':
      return true;
    case 'destinationPortRange':
      return port >= p.rule.value.start && port < p.rule.value.end;
    default:
      return false;
  }
}

export function defaultTlsAlpn(protocol: CallProtocol, tls: TlsMode): string[] {
  const h2 = protocol === 'http2' || protocol === 'grpc';
  if (tls === 'mtls') return [protocol === 'http' ? 'istio-http/1.1' : h2 ? 'istio-h2' : 'istio'];
  return protocol === 'http' ? ['http/1.1'] : h2 ? ['h2'] : [];
}
