// Istio's peer metadata filter (`istio.metadata_exchange`, io.istio.http.peer_metadata.Config in a
// TypedStruct; istio/proxy source/extensions/filters/http/peer_metadata), the HTTP half of Istio's
// metadata exchange. With `istio_headers`:
// - downstream discovery (sidecar inbound): the client's proxy sent x-envoy-peer-metadata(-id); they are read
//   into the stream's downstream peer and removed before the app sees them;
// - downstream propagation: this proxy's own metadata goes back in the response, only when the request
//   carried the peer headers (MXPropagationMethod::inject: request_peer_received);
// - upstream propagation (sidecar outbound, gateways): this proxy's metadata goes upstream with the request,
//   except to mesh-external clusters when `skip_external_clusters` is set;
// - upstream discovery: the server's proxy answered with its metadata; read into the upstream peer and removed
//   from the response.
// `workload_discovery` (peers looked up by address in istiod's workload discovery service) has no source
// here: it finds nothing, as on an Istio sidecar without ambient's WDS. `baggage` is refused (NACK).

import type { PeerMetadataConfig } from './peer-metadata-config.js';
import type { HttpStream } from '../http/http-stream.js';
import type { RouteSelection } from '../http/route/types.js';
import type { HcmEnv } from '../http/hcm-env.js';
import { clusterTelemetry } from './cluster-telemetry.js';
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER, PeerMetadataCache } from './workload-metadata.js';

const cache = new PeerMetadataCache();

function first(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : v?.[0];
}

/** Runs on the request path; never stops the request. */
export function runPeerMetadataFilter(c: PeerMetadataConfig, s: HttpStream, sel: RouteSelection | undefined, env: HcmEnv): void {
  const own = env.workload;
  const h = s.request.headers;
  if (c.downstreamDiscovery) {
    const id = first(h[PEER_METADATA_ID_HEADER]);
    const value = first(h[PEER_METADATA_HEADER]);
    if (value !== undefined) {
      const peer = cache.get(value);
      if (peer !== undefined) s.info.downstreamPeer = peer;
    }
    delete h[PEER_METADATA_ID_HEADER];
    delete h[PEER_METADATA_HEADER];
    if (c.downstreamPropagation && own !== undefined && (id !== undefined || value !== undefined)) {
      s.responseHooks.push((_status, rh) => {
        if (id !== undefined) rh[PEER_METADATA_ID_HEADER] = own.nodeId;
        if (value !== undefined) rh[PEER_METADATA_HEADER] = own.header;
      });
    }
  }
  if (c.upstreamPropagation && own !== undefined) {
    const external = c.skipExternalClusters && sel?.kind === 'route' && clusterTelemetry(env.cluster(sel.cluster)?.config.proto).external;
    if (!external) {
      h[PEER_METADATA_ID_HEADER] = own.nodeId;
      h[PEER_METADATA_HEADER] = own.header;
    } else {
      delete h[PEER_METADATA_ID_HEADER];
      delete h[PEER_METADATA_HEADER];
    }
  }
  if (c.upstreamDiscovery) {
    s.responseHooks.push((_status, rh) => {
      const value = first(rh[PEER_METADATA_HEADER]);
      if (value !== undefined) {
        const peer = cache.get(value);
        if (peer !== undefined) s.info.upstreamPeer = peer;
      }
      delete rh[PEER_METADATA_HEADER];
      delete rh[PEER_METADATA_ID_HEADER];
    });
  }
}
