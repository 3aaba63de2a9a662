// `isthmus bootstrap`: the bootstrap a proxy needs to reach the control plane over xDS.
// --proxyless prints the gRPC xDS bootstrap (GRPC_XDS_BOOTSTRAP) in the shape istio-agent writes for
// proxyless gRPC (pkg/istio-agent/grpcxds/grpc_bootstrap.go): xds_servers with insecure channel creds,
// node with id, locality (which @grpc/grpc-js-xds requires) and metadata GENERATOR=grpc, and the
// server listener template `xds.istio.io/grpc/lds/inbound/%s`. Without it, an Envoy bootstrap (node,
// ADS over the `xds-grpc` cluster, admin on :15000) for Envoy or `isthmus proxy`.

import type { Command } from 'commander';
import { create, toJson, type JsonObject } from '@bufbuild/protobuf';
import { BootstrapSchema } from '../xds/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { Cluster_DiscoveryType } from '../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ApiConfigSource_ApiType } from '../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { XDS_REGISTRY } from '../xds/codec.js';
import { XDS_CLUSTER } from '../xds/names.js';
import { IsthmusError } from '../lib/errors.js';
import { parseOutputFormat, renderData, type CliIO } from './output.js';

export interface BootstrapOptions {
  readonly node: string;
  readonly proxyless: boolean;
  readonly xdsAddress: string;
  readonly namespace: string;
  readonly type: 'sidecar' | 'router';
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  readonly locality: { region: string; zone: string; subZone: string };
  /** The admin's IP (Envoy bootstrap only); 127.0.0.1 by default. */
  readonly adminHost?: string;
  /** The workload (a Deployment's name) when the node is one of its pods; default: the pod name. */
  readonly workloadName?: string;
  /** More node metadata, as pilot-agent takes it from ISTIO_META_<KEY> (e.g. HTTP10=1); the fields above win. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** `app=a,version=v1` -> {app:'a', version:'v1'}; a pair without `=` is a usage error naming it (and `flag`). */
export function parseLabels(s: string | undefined, flag = '--labels'): Record<string, string> {
  const out: Record<string, string> = {};
  if (s === undefined || s === '') return out;
  for (const pair of s.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new IsthmusError('ISM_USAGE', `invalid ${flag} entry "${pair}": want key=value`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** The node id: given whole (`sidecar~ip~name.ns~ns.svc.cluster.local`) or built from a workload name. */
export function nodeId(o: Pick<BootstrapOptions, 'node' | 'type' | 'ip' | 'namespace'>): string {
  if (o.node.includes('~')) return o.node;
  return `${o.type}~${o.ip}~${o.node}.${o.namespace}~${o.namespace}.svc.cluster.local`;
}

/** Istio's node metadata (pkg/model/context.go NodeMetadata): NAME is the pod, WORKLOAD_NAME its workload. */
function nodeMetadata(o: BootstrapOptions): JsonObject {
  const pod = o.node.includes('~') ? (o.node.split('~')[2] ?? '').split('.')[0] ?? '' : o.node;
  const workload = o.workloadName ?? pod;
  return {
    ...o.metadata,
    NAME: pod,
    NAMESPACE: o.namespace,
    LABELS: { ...o.labels },
    SERVICE_ACCOUNT: o.serviceAccount,
    WORKLOAD_NAME: workload,
    ...(o.proxyless ? { GENERATOR: 'grpc' } : {}),
  };
}

export function grpcBootstrap(o: BootstrapOptions): JsonObject {
  return {
    xds_servers: [{ server_uri: o.xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: nodeId(o), locality: { ...o.locality }, metadata: nodeMetadata(o) },
    server_listener_resource_name_template: 'xds.istio.io/grpc/lds/inbound/%s',
  };
}

export function envoyBootstrap(o: BootstrapOptions): JsonObject {
  const colon = o.xdsAddress.lastIndexOf(':');
  const host = o.xdsAddress.slice(0, colon);
  const port = Number(o.xdsAddress.slice(colon + 1));
  const b = create(BootstrapSchema, {
    node: { id: nodeId(o), cluster: `${o.node.includes('~') ? 'workload' : o.node}.${o.namespace}`, locality: { ...o.locality }, metadata: nodeMetadata(o) },
    admin: { address: { address: { case: 'socketAddress', value: { address: o.adminHost ?? '127.0.0.1', portSpecifier: { case: 'portValue', value: 15000 } } } } },
    dynamicResources: {
      adsConfig: {
        apiType: ApiConfigSource_ApiType.GRPC,
        transportApiVersion: 2,
        grpcServices: [{ targetSpecifier: { case: 'envoyGrpc', value: { clusterName: XDS_CLUSTER } } }],
      },
      ldsConfig: { resourceApiVersion: 2, configSourceSpecifier: { case: 'ads', value: {} } },
      cdsConfig: { resourceApiVersion: 2, configSourceSpecifier: { case: 'ads', value: {} } },
    },
    staticResources: {
      clusters: [
        {
          name: XDS_CLUSTER,
          // As Istio's bootstrap (tools/packaging/common/envoy_bootstrap.json): the `;` lets Istio's
          // cluster_name tag extractor (`^cluster(\\.(.+);)`) label the ADS cluster's stats `xds-grpc`.
          altStatName: `${XDS_CLUSTER};`,
          clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STRICT_DNS },
          connectTimeout: { seconds: 1n },
          http2ProtocolOptions: {},
          loadAssignment: {
            clusterName: XDS_CLUSTER,
            endpoints: [
              {
                lbEndpoints: [
                  {
                    hostIdentifier: {
                      case: 'endpoint',
                      value: { address: { address: { case: 'socketAddress', value: { address: host, portSpecifier: { case: 'portValue', value: port } } } } },
                    },
                  },
                ],
              },
            ],
          },
        },
      ],
    },
  });
  return toJson(BootstrapSchema, b, { registry: XDS_REGISTRY }) as JsonObject;
}

function parseLocality(s: string): { region: string; zone: string; subZone: string } {
  const [region = '', zone = '', subZone = ''] = s.split('/');
  return { region, zone, subZone };
}

export function registerBootstrap(program: Command, io: CliIO): void {
  program
    .command('bootstrap')
    .description('Print the bootstrap a proxy or a proxyless gRPC application needs to reach the control plane')
    .requiredOption('--node <id>', 'workload name (or a full node id <type>~<ip>~<name>.<ns>~<ns>.svc.cluster.local)')
    .option('--proxyless', 'print a gRPC xDS bootstrap (GRPC_XDS_BOOTSTRAP) for proxyless gRPC', false)
    .option('--xds-address <host:port>', 'the control plane xDS address', '127.0.0.1:15010')
    .option('-n, --namespace <ns>', 'the workload namespace', 'default')
    .option('--type <type>', 'node type: sidecar or router (gateway)', 'sidecar')
    .option('--ip <ip>', 'the workload IP in the node id', '127.0.0.1')
    .option('--labels <k=v,...>', 'workload labels (how Services and DestinationRule subsets select it)')
    .option('--service-account <name>', 'the workload service account', 'default')
    .option('--locality <region/zone/subzone>', 'the workload locality', '')
    .option('--meta <KEY=value,...>', "more node metadata, as pilot-agent's ISTIO_META_<KEY> variables give it (e.g. HTTP10=1: serve HTTP/1.0)")
    .option('-o, --output <format>', 'json or yaml', 'json')
    .addHelpText(
      'after',
      `
Examples:
  GRPC_XDS_BOOTSTRAP_CONFIG="$(isthmus bootstrap --proxyless --node client --labels app=client)" node client.js
  isthmus bootstrap --node reviews-v1 --labels app=reviews,version=v1 -o yaml
  isthmus bootstrap --node legacy --meta HTTP10=1   # its connection managers accept HTTP/1.0 (else 426)`,
    )
    .action((opts: { node: string; proxyless: boolean; xdsAddress: string; namespace: string; type: string; ip: string; labels?: string; serviceAccount: string; locality: string; meta?: string; output: string }) => {
      const format = parseOutputFormat(opts.output);
      if (format === 'table') throw new IsthmusError('ISM_USAGE', 'bootstrap prints json or yaml');
      if (opts.type !== 'sidecar' && opts.type !== 'router') throw new IsthmusError('ISM_USAGE', `invalid --type "${opts.type}": want sidecar or router`);
      if (!/^[^:]+:\d+$/.test(opts.xdsAddress)) throw new IsthmusError('ISM_USAGE', `invalid --xds-address "${opts.xdsAddress}": want host:port`);
      const o: BootstrapOptions = {
        node: opts.node,
        proxyless: opts.proxyless,
        xdsAddress: opts.xdsAddress,
        namespace: opts.namespace,
        type: opts.type,
        ip: opts.ip,
        labels: parseLabels(opts.labels),
        serviceAccount: opts.serviceAccount,
        locality: parseLocality(opts.locality),
        metadata: parseLabels(opts.meta, '--meta'),
      };
      io.stdout(renderData(opts.proxyless ? grpcBootstrap(o) : envoyBootstrap(o), format));
    });
}
