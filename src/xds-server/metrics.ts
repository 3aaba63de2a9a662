// The control plane's Prometheus metrics, named and labelled as istiod's so dashboards and alerts written
// for Istio work unchanged (pilot/pkg/xds/monitoring.go, pkg/xds/monitoring.go). Each DiscoveryServer
// owns its own prom-client Registry (never the global one), so several servers in one process (tests)
// do not share counters.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE } from '../xds/type-urls.js';

/** istiod's metric type label (model.GetMetricType): cds, eds, lds, rds, sds; other types: their short name lower-cased. */
export function metricType(typeUrl: string): string {
  switch (typeUrl) {
    case CLUSTER_TYPE:
      return 'cds';
    case ENDPOINT_TYPE:
      return 'eds';
    case LISTENER_TYPE:
      return 'lds';
    case ROUTE_TYPE:
      return 'rds';
    case SECRET_TYPE:
      return 'sds';
    default:
      return typeUrl.slice(typeUrl.lastIndexOf('.') + 1).toLowerCase();
  }
}

type RejectGauge = Gauge<'node' | 'err'>;

export class XdsMetrics {
  readonly registry = new Registry();
  /** pilot_xds: connected endpoints by Istio version. */
  readonly xdsClients: Gauge<'version'>;
  /** pilot_xds_pushes: responses sent, by type. */
  readonly pushes: Counter<'type'>;
  readonly pushTime: Histogram<'type'>;
  readonly sendTime: Histogram;
  readonly convergence: Histogram;
  readonly debounceTime: Histogram;
  readonly totalRejects: Counter<'type'>;
  readonly expiredNonce: Counter<'type'>;
  private readonly rejectGauges: Readonly<Record<string, RejectGauge>>;

  constructor() {
    const registers = [this.registry];
    this.xdsClients = new Gauge({ name: 'pilot_xds', help: 'Number of endpoints connected to this pilot using XDS.', labelNames: ['version'], registers });
    this.pushes = new Counter({ name: 'pilot_xds_pushes', help: 'Pilot build and send errors for lds, rds, cds and eds.', labelNames: ['type'], registers });
    this.pushTime = new Histogram({
      name: 'pilot_xds_push_time',
      help: 'Total time in seconds Pilot takes to push lds, rds, cds and eds.',
      labelNames: ['type'],
      buckets: [0.01, 0.1, 0.5, 1, 3, 5, 10, 20, 30],
      registers,
    });
    this.sendTime = new Histogram({
      name: 'pilot_xds_send_time',
      help: 'Total time in seconds Pilot takes to send generated configuration.',
      buckets: [0.01, 0.1, 1, 3, 5, 10, 20, 30],
      registers,
    });
    this.convergence = new Histogram({
      name: 'pilot_proxy_convergence_time',
      help: 'Delay in seconds between config change and a proxy receiving all required configuration.',
      buckets: [0.1, 0.5, 1, 3, 5, 10, 20, 30],
      registers,
    });
    this.debounceTime = new Histogram({
      name: 'pilot_debounce_time',
      help: 'Delay in seconds between the first config enters debouncing and the merged push request is pushed into the push queue.',
      buckets: [0.01, 0.1, 0.5, 1, 3, 5, 10, 20, 30],
      registers,
    });
    this.totalRejects = new Counter({ name: 'pilot_total_xds_rejects', help: 'Total number of XDS responses from pilot rejected by proxy.', labelNames: ['type'], registers });
    this.expiredNonce = new Counter({ name: 'pilot_xds_expired_nonce', help: 'Total number of XDS requests with an expired nonce.', labelNames: ['type'], registers });
    const reject = (t: string, what: string): RejectGauge =>
      new Gauge({ name: `pilot_xds_${t}_reject`, help: `Pilot rejected ${what}.`, labelNames: ['node', 'err'], registers });
    this.rejectGauges = { cds: reject('cds', 'CDS configs'), eds: reject('eds', 'EDS'), lds: reject('lds', 'LDS'), rds: reject('rds', 'RDS') };
  }

  connected(istioVersion: string, delta: 1 | -1): void {
    this.xdsClients.inc({ version: istioVersion }, delta);
  }

  /** A response was written: counts it and its build+write time. */
  pushed(typeUrl: string, seconds: number): void {
    const type = metricType(typeUrl);
    this.pushes.inc({ type });
    this.pushTime.observe({ type }, seconds);
  }

  /** istiod's IncrementXDSRejects: the total by type, and the legacy per-type gauge by node and error code. */
  rejected(typeUrl: string, node: string, errCode: string): void {
    const type = metricType(typeUrl);
    this.totalRejects.inc({ type });
    this.rejectGauges[type]?.inc({ node, err: errCode });
  }

  /** Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
