// The proxy's bootstrap: an Envoy v3 Bootstrap JSON file (what `isthmus bootstrap` prints), parsed with
// the generated Envoy types, then checked for what `isthmus proxy` needs to start: node.id, ADS over a
// gRPC cluster defined in static_resources with one socket address, and an admin socket address.
// Errors name the file, the JSON field path and the reason (Envoy refuses such bootstraps at start too).

import { readFile } from 'node:fs/promises';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { BootstrapSchema, type Bootstrap } from '../xds/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import type { Node } from '../xds/gen/envoy/config/core/v3/base_pb.js';
import type { Address } from '../xds/gen/envoy/config/core/v3/address_pb.js';
import { ApiConfigSource_ApiType } from '../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { XDS_REGISTRY } from '../xds/codec.js';
import { IsthmusError } from '../lib/errors.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface ProxyBootstrap {
  readonly node: Node;
  readonly nodeId: string;
  /** The ADS cluster's name (`xds-grpc` in what `isthmus bootstrap` prints). */
  readonly xdsCluster: string;
  /** The name its `cluster.<name>.*` stats go under: its alt_stat_name when set (Istio's `xds-grpc;`), else its name. */
  readonly xdsClusterStatName: string;
  /** host:port of the ADS server, from the ADS cluster's single endpoint. */
  readonly xdsAddress: string;
  /** ads_config.api_type: DELTA_GRPC (or AGGREGATED_DELTA_GRPC) is incremental xDS, anything else state of the world. */
  readonly xdsProtocol: 'sotw' | 'delta';
  readonly admin: HostPort;
  readonly raw: Bootstrap;
}

function socketAddress(a: Address | undefined): HostPort | undefined {
  if (a?.address.case !== 'socketAddress') return undefined;
  const s = a.address.value;
  if (s.portSpecifier.case !== 'portValue' || s.address === '') return undefined;
  return { host: s.address, port: s.portSpecifier.value };
}

/** Validates a parsed bootstrap; every problem is listed, each as `<field path>: <reason>`. */
export function bootstrapProblems(b: Bootstrap): string[] {
  const problems: string[] = [];
  if (b.node === undefined || b.node.id === '') problems.push('node.id: must be set (the proxy identifies itself to the control plane with it)');
  const ads = b.dynamicResources?.adsConfig;
  if (ads === undefined) {
    problems.push('dynamic_resources.ads_config: must be set (the proxy gets its config over ADS)');
  } else {
    const g = ads.grpcServices[0];
    if (g === undefined || g.targetSpecifier.case !== 'envoyGrpc' || g.targetSpecifier.value.clusterName === '') {
      problems.push('dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name: must name a static cluster');
    } else {
      const name = g.targetSpecifier.value.clusterName;
      const i = b.staticResources?.clusters.findIndex((c) => c.name === name) ?? -1;
      const c = i >= 0 ? b.staticResources?.clusters[i] : undefined;
      if (c === undefined) {
        problems.push(`static_resources.clusters: no cluster named "${name}" (the ADS cluster)`);
      } else {
        const ep = c.loadAssignment?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier;
        const addr = ep?.case === 'endpoint' ? socketAddress(ep.value.address) : undefined;
        if (addr === undefined) problems.push(`static_resources.clusters[${i}].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address: must have an address and a port_value`);
      }
    }
  }
  if (socketAddress(b.admin?.address) === undefined) problems.push('admin.address.socket_address: must have an address and a port_value');
  return problems;
}

/** A bootstrap from its JSON value; `source` names it in errors. */
export function parseBootstrap(json: JsonValue, source: string): ProxyBootstrap {
  let b: Bootstrap;
  try {
    b = fromJson(BootstrapSchema, json, { registry: XDS_REGISTRY });
  } catch (e) {
    throw new IsthmusError('ISM_FILE_READ', `invalid bootstrap ${source}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const problems = bootstrapProblems(b);
  if (problems.length > 0) throw new IsthmusError('ISM_FILE_READ', `invalid bootstrap ${source}: ${problems.join('; ')}`);
  // Checked above.
  const node = b.node as Node;
  const g = b.dynamicResources?.adsConfig?.grpcServices[0]?.targetSpecifier;
  const xdsCluster = g?.case === 'envoyGrpc' ? g.value.clusterName : '';
  const adsCluster = b.staticResources?.clusters.find((c) => c.name === xdsCluster);
  const ep = adsCluster?.loadAssignment?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier;
  const xds = ep?.case === 'endpoint' ? (socketAddress(ep.value.address) as HostPort) : { host: '', port: 0 };
  return {
    node,
    nodeId: node.id,
    xdsCluster,
    xdsClusterStatName: adsCluster?.altStatName || xdsCluster,
    xdsAddress: `${xds.host.includes(':') ? `[${xds.host}]` : xds.host}:${xds.port}`,
    xdsProtocol: [ApiConfigSource_ApiType.DELTA_GRPC, ApiConfigSource_ApiType.AGGREGATED_DELTA_GRPC].includes(b.dynamicResources?.adsConfig?.apiType ?? ApiConfigSource_ApiType.GRPC) ? 'delta' : 'sotw',
    admin: socketAddress(b.admin?.address) as HostPort,
    raw: b,
  };
}

/** Reads and validates a bootstrap file. */
export async function readBootstrap(path: string): Promise<ProxyBootstrap> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new IsthmusError('ISM_FILE_READ', `cannot read bootstrap ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch (e) {
    throw new IsthmusError('ISM_FILE_READ', `invalid bootstrap ${path}: not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseBootstrap(json, path);
}
