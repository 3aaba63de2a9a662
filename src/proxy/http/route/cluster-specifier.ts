// Which cluster a forwarding route sends to: `cluster`, `cluster_header` (its first value; absent means
// the cluster-not-found answer), or `weighted_clusters`. A weighted pick takes the request's random value
// (or a valid single-valued header named by header_name) modulo the sum of weights and walks the
// cumulative weights (WeightedClusterSpecifierPlugin::pickWeightedCluster). The sum must be above 0 and
// fit in 32 bits; the deprecated total_weight, when above 0, must equal the sum.
// Cluster specifier plugins have no implementation here: a required one is a problem, an optional one
// makes its routes never match (Envoy's NullClusterSpecifierPlugin yields no route, and matching goes on).
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-weightedcluster

import type { RouteAction, WeightedCluster_ClusterWeight } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { asciiLower } from './ascii.js';
import { compileHeaderMutationLevel } from './header-mutation.js';
import type { RequestView } from './request-view.js';
import { EMPTY_LEVEL, type LevelConfig } from './selection.js';

const UINT32_MAX = 4294967295;

export interface ClusterChoice {
  /** Static cluster name; '' when clusterHeader names it. */
  readonly cluster: string;
  /** Lower-case header naming the cluster, or ''. */
  readonly clusterHeader: string;
  /** Upper bound (exclusive) of this choice in the cumulative weights. */
  readonly upTo: number;
  /** The weighted cluster's host_rewrite_literal, or ''. */
  readonly hostRewriteLiteral: string;
  readonly level: LevelConfig;
}

export type ClusterSpecifier =
  | { readonly kind: 'single'; readonly choice: ClusterChoice }
  | { readonly kind: 'weighted'; readonly choices: readonly ClusterChoice[]; readonly total: number; readonly randomValueHeader: string | undefined }
  /** An optional cluster specifier plugin this proxy does not implement: the route never matches. */
  | { readonly kind: 'none' };

/** The names of the route configuration's cluster_specifier_plugins, with whether each is optional. */
export type PluginTable = ReadonlyMap<string, boolean>;

function choice(cluster: string, clusterHeader: string): ClusterChoice {
  return Object.freeze({ cluster, clusterHeader: asciiLower(clusterHeader), upTo: 1, hostRewriteLiteral: '', level: EMPTY_LEVEL });
}

function weightedChoice(w: WeightedCluster_ClusterWeight, upTo: number, path: string, problems: string[]): ClusterChoice {
  if ((w.name === '') === (w.clusterHeader === '')) {
    problems.push(w.name === '' ? `${path}: at least one of name or cluster_header need to be specified` : `${path}: only one of name or cluster_header can be specified`);
  }
  const request = compileHeaderMutationLevel(w.requestHeadersToAdd, w.requestHeadersToRemove, `${path}.request_headers_to_add`, `${path}.request_headers_to_remove`, problems);
  const response = compileHeaderMutationLevel(w.responseHeadersToAdd, w.responseHeadersToRemove, `${path}.response_headers_to_add`, `${path}.response_headers_to_remove`, problems);
  return Object.freeze({
    cluster: w.name,
    clusterHeader: asciiLower(w.clusterHeader),
    upTo,
    hostRewriteLiteral: w.hostRewriteSpecifier.case === 'hostRewriteLiteral' ? w.hostRewriteSpecifier.value : '',
    level: Object.freeze({ request, response, typedPerFilterConfig: Object.freeze({ ...w.typedPerFilterConfig }) }),
  });
}

/** `path` is the RouteAction's field path. */
export function compileClusterSpecifier(a: RouteAction, plugins: PluginTable, path: string, problems: string[]): ClusterSpecifier {
  const s = a.clusterSpecifier;
  switch (s.case) {
    case 'cluster':
      if (s.value === '') problems.push(`${path}.cluster: value length must be at least 1 characters`);
      return { kind: 'single', choice: choice(s.value, '') };
    case 'clusterHeader':
      if (s.value === '') problems.push(`${path}.cluster_header: value length must be at least 1 characters`);
      return { kind: 'single', choice: choice('', s.value) };
    case 'weightedClusters': {
      const wc = s.value;
      const at = `${path}.weighted_clusters`;
      if (wc.clusters.length === 0) problems.push(`${at}.clusters: must have at least 1 item`);
      let total = 0;
      const choices = wc.clusters.map((w, i) => {
        total += w.weight ?? 0;
        return weightedChoice(w, total, `${at}.clusters[${i}]`, problems);
      });
      if (total > UINT32_MAX) problems.push(`${at}: the sum of weights of all weighted clusters exceeds ${UINT32_MAX}`);
      else if (total === 0 && wc.clusters.length > 0) problems.push(`${at}: sum of weights in the weighted_cluster must be greater than 0`);
      if (wc.totalWeight !== undefined && wc.totalWeight > 0 && wc.totalWeight !== total) {
        problems.push(`${at}.total_weight: sum of weights in the weighted_cluster (${total}) should add up to total_weight ${wc.totalWeight}`);
      }
      const header = wc.randomValueSpecifier.case === 'headerName' && wc.randomValueSpecifier.value !== '' ? asciiLower(wc.randomValueSpecifier.value) : undefined;
      return { kind: 'weighted', choices: Object.freeze(choices), total, randomValueHeader: header };
    }
    case 'clusterSpecifierPlugin': {
      const optional = plugins.get(s.value);
      if (optional === undefined) problems.push(`${path}.cluster_specifier_plugin: unknown cluster specifier plugin name ${JSON.stringify(s.value)}`);
      return { kind: 'none' };
    }
    case 'inlineClusterSpecifierPlugin': {
      const p = s.value;
      if (!p.isOptional) problems.push(`${path}.inline_cluster_specifier_plugin: unsupported cluster specifier plugin ${JSON.stringify(p.extension?.name ?? '')}`);
      return { kind: 'none' };
    }
    case undefined:
      problems.push(`${path}: one of cluster, cluster_header, weighted_clusters, cluster_specifier_plugin or inline_cluster_specifier_plugin must be set`);
      return { kind: 'none' };
  }
}

/** A random value from the weighted clusters' header_name: one value, an unsigned decimal integer. */
function headerRandom(req: RequestView, name: string, total: number): number | undefined {
  const v = req.input.headers[name];
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) return undefined;
  if (v.length <= 15) return Number(v) % total;
  const big = BigInt(v);
  return big > 18446744073709551615n ? undefined : Number(big % BigInt(total));
}

/** The index of the weighted choice for this request, or -1 (only when the weights are invalid). */
export function pickWeighted(choices: readonly ClusterChoice[], total: number, randomValueHeader: string | undefined, req: RequestView): number {
  if (total <= 0) return -1;
  const selected = (randomValueHeader === undefined ? undefined : headerRandom(req, randomValueHeader, total)) ?? req.randomValue % total;
  for (let i = 0; i < choices.length; i++) if (selected < (choices[i] as ClusterChoice).upTo) return i;
  return -1;
}
