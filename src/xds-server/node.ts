// The proxy behind a new ADS stream, from the `node` of its first request (Istio's
// initConnection -> ParseServiceNodeWithMetadata). A stream whose first request has no node, or whose
// node id does not parse, is refused with INVALID_ARGUMENT and a message naming the field and reason.

import type { Node } from '../xds/gen/envoy/config/core/v3/base_pb.js';
import { parseProxy, type Proxy } from '../model/proxy.js';

export type NodeResult = { readonly ok: true; readonly proxy: Proxy } | { readonly ok: false; readonly message: string };

export function proxyFromNode(node: Node | undefined): NodeResult {
  if (node === undefined || node.id === '') {
    return { ok: false, message: 'node.id: the first request on an ADS stream must carry the node with its id (<type>~<ip>~<id>~<domain>)' };
  }
  // protobuf-es maps google.protobuf.Struct to a JsonObject already: node.metadata is the JSON form.
  const parsed = parseProxy({
    id: node.id,
    ...(node.metadata !== undefined ? { metadata: node.metadata } : {}),
    ...(node.locality !== undefined ? { locality: { region: node.locality.region, zone: node.locality.zone, subZone: node.locality.subZone } } : {}),
  });
  if (!parsed.ok) return { ok: false, message: parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ') };
  return { ok: true, proxy: parsed.value };
}
