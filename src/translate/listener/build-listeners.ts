// LDS for one proxy (Istio's listener.go BuildListeners, grpcgen for proxyless): sidecars get their per-port
// outbound listeners, virtualOutbound (15001) and virtualInbound (15006); routers get one listener per merged
// Gateway server port; proxyless gRPC clients get API listeners. Config the builders cannot apply is reported
// as issues (listenerIssues) and left out, never half-applied.

import type { Issue } from '../../lib/issue.js';
import type { Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { ProxyContext } from '../context.js';
import { buildGatewayListeners } from './gateway-listeners.js';
import { buildProxylessListeners } from './proxyless-listeners.js';
import { buildVirtualInboundListener } from './sidecar-inbound.js';
import { buildSidecarOutboundListeners } from './sidecar-outbound.js';
import { buildVirtualOutboundListener } from './virtual-outbound.js';

export interface ListenerBuild {
  readonly listeners: Listener[];
  /** Conflicts and dropped config (warnings), naming the resource and reason. */
  readonly issues: Issue[];
}

export function buildListenersWithIssues(ctx: ProxyContext): ListenerBuild {
  const issues: Issue[] = [];
  let listeners: Listener[];
  switch (ctx.proxy.type) {
    case 'sidecar':
      listeners = [...buildSidecarOutboundListeners(ctx, issues), buildVirtualOutboundListener(ctx), buildVirtualInboundListener(ctx, issues)];
      break;
    case 'router':
      listeners = buildGatewayListeners(ctx, issues);
      break;
    case 'proxyless':
      listeners = buildProxylessListeners(ctx);
      break;
  }
  return { listeners, issues };
}

export function buildListeners(ctx: ProxyContext): Listener[] {
  return buildListenersWithIssues(ctx).listeners;
}
