// One worker process of `isthmus proxy --concurrency N` (Envoy's worker thread): it serves traffic from
// the config the primary relays and nothing else. It has no xDS stream (the primary owns the one stream
// of this node), no admin server and no signal handling of its own: it builds the same DataPlane a single
// process runs, fed by WorkerTables instead of an ADS client, and binds its listeners through Node's
// cluster module, which shares each listening socket with the other workers.
// It answers the primary: 'applied' once a config is applied (readiness), a stats snapshot on request,
// log level changes, and 'drain', after which it stops accepting, lets in-flight requests finish, closes
// and exits. It exits on its own too when the primary goes away (the cluster module ends a worker whose
// IPC channel closes), so no worker outlives its primary.
// Wasm: the worker's plugin VMs use the primary's shared data and shared queues (the proxy has one of each,
// as Envoy's worker threads share one) and read host_env_keys from the primary's environment, through the
// blocking channel the primary forked it with (settings.wasm.sharedStoreFd); it is set up before any plugin
// can start, and the primary's 'queue-ready' messages reach the VM that registered the queue.

import { createSwitchableLogger, type Logger } from '../../lib/logger.js';
import { systemClock } from '../../lib/clock.js';
import { LISTENER_TYPE } from '../../xds/type-urls.js';
import { fromBinary } from '@bufbuild/protobuf';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { DataPlane } from '../data-plane.js';
import { wasmSetup } from '../filters/wasm/proxy-wasm-options.js';
import { mathRandom } from '../lib/random.js';
import { compileResource } from '../runtime/compile-resource.js';
import type { CompiledListener } from '../runtime/compile-listener.js';
import { sanitizeStatsName, StatsStore } from '../stats/stats-store.js';
import { secretSourceOf } from '../xds-client/secret-source.js';
import { agentSecretSource } from '../identity/agent-secrets.js';
import { fileSecretSource } from '../identity/file-secrets.js';
import type { WorkloadCertificate } from '../identity/workload-agent.js';

/** The workload certificate the primary sent last (undefined until one arrives). */
interface IdentityHolder {
  current: WorkloadCertificate | undefined;
}
import { parseToWorker, type FromWorker, type ToWorker, type WorkerSettings } from './ipc-protocol.js';
import { snapshotStats } from './stats-merge.js';
import { WorkerListenerStats } from './worker-listener-stats.js';
import { WorkerTables } from './worker-tables.js';
import { OutlierRelay } from './outlier-relay.js';
import { HealthRelay } from './health-relay.js';
import { ledgerClient } from './breaker-ledger.js';
import { BlockingFdChannel } from './wasm-shared-channel.js';
import { RemoteSharedData, RemoteSharedQueues, remoteHostEnv } from '../wasm/remote-shared-store.js';
import { setProcessSharedData } from '../wasm/shared-data.js';
import { setProcessSharedQueues } from '../wasm/shared-queues.js';

/** What a worker needs of its process: the IPC channel to the primary, and a way to end. */
export interface WorkerProcess {
  send(message: FromWorker): void;
  onMessage(f: (message: unknown) => void): void;
  exit(code: number): void;
}

interface Running {
  readonly settings: WorkerSettings;
  readonly logger: Logger & { setLevel(level: string): boolean };
  readonly tables: WorkerTables;
  readonly dataPlane: DataPlane;
  readonly stats: StatsStore;
  readonly listenerStats: WorkerListenerStats;
  /** The primary's shared queues, when the worker has a channel to them. */
  readonly queues: RemoteSharedQueues | undefined;
  /** Request outcomes to the primary's outlier detectors, and their ejections back. */
  readonly outliers: OutlierRelay;
  /** The primary's active health check flags, and the clusters' first traffic to it. */
  readonly health: HealthRelay;
}

/** This process's plugin VMs use the primary's stores from now on; answers the environment lookup too. */
function connectSharedStores(fd: number, logger: Logger): { queues: RemoteSharedQueues; hostEnv: (key: string) => string | undefined; channel: BlockingFdChannel } {
  const channel = new BlockingFdChannel(fd, (reason) => logger.error(`the primary's shared stores and breaker ledger are unreachable: ${reason}`));
  const queues = new RemoteSharedQueues(channel);
  setProcessSharedData(new RemoteSharedData(channel));
  setProcessSharedQueues(queues);
  return { queues, hostEnv: remoteHostEnv(channel), channel };
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** Envoy names listener stats by the listener's stat_prefix, else its configured address and port. */
function listenerStatName(r: Pick<Running, 'tables' | 'dataPlane'>, localAddress: string, localPort: number): string {
  const bound = r.dataPlane.listeners.bound().find((b) => b.port === localPort && (b.address === localAddress || WILDCARDS.has(b.address)));
  const entry = bound === undefined ? undefined : r.tables.table(LISTENER_TYPE).get(bound.name);
  if (entry === undefined) return sanitizeStatsName(`${localAddress}_${localPort}`);
  if (entry.message.statPrefix !== '') return sanitizeStatsName(entry.message.statPrefix);
  const l = entry.compiled as CompiledListener | undefined;
  return sanitizeStatsName(`${l?.address ?? localAddress}_${l?.port ?? localPort}`);
}

function start(settings: WorkerSettings, writeLog: (line: string) => void, identity: IdentityHolder, proc: WorkerProcess): Running {
  const logger = createSwitchableLogger('warn', (l) => writeLog(`${l} worker=${settings.slot}`));
  logger.setLevel(settings.logLevel);
  const tables = new WorkerTables(compileResource, logger);
  const stats = new StatsStore();
  const fd = settings.wasm?.sharedStoreFd;
  const shared = fd === undefined ? undefined : connectSharedStores(fd, logger);
  const outliers = new OutlierRelay((results) => proc.send({ t: 'outlier-results', results }));
  const health = new HealthRelay((m) => proc.send(m));
  const dataPlane = new DataPlane({
    xds: tables,
    outlier: outliers.forCluster,
    // Active health checks run in the primary (health-hub.ts): clusters balance by the flags it sends.
    healthChecks: health.forCluster,
    // Circuit breaker limits are the whole proxy's: units come from the primary's ledger.
    ...(shared !== undefined && (settings.concurrency ?? 1) > 1 ? { breakerLedger: { client: ledgerClient(shared.channel), workers: settings.concurrency ?? 1 } } : {}),
    // DNS clusters take the hosts the primary resolves (dns-hub.ts).
    dnsFromPrimary: true,
    logger,
    clock: systemClock,
    random: mathRandom,
    secrets: agentSecretSource(identity, fileSecretSource(secretSourceOf(tables), systemClock)),
    stats,
    ...(settings.captureAddress !== undefined ? { captureAddress: settings.captureAddress } : {}),
    ...(settings.bindAddress !== undefined ? { bindAddress: settings.bindAddress } : {}),
    ...(settings.appAddress !== undefined ? { appAddress: settings.appAddress } : {}),
    ...(settings.portMap !== undefined ? { portMap: settings.portMap } : {}),
    wasm: wasmSetup(shared === undefined ? settings.wasm : { ...settings.wasm, hostEnv: shared.hostEnv }, settings.wasm?.node ?? { id: '', cluster: '', metadata: {} }, systemClock, logger),
    ...(settings.workload !== undefined ? { workload: settings.workload } : {}),
  });
  const listenerStats = new WorkerListenerStats(stats, settings.slot, (a, p) => listenerStatName({ tables, dataPlane }, a, p));
  listenerStats.start();
  dataPlane.start();
  return { settings, logger, tables, dataPlane, stats, listenerStats, queues: shared?.queues, outliers, health };
}

async function drain(r: Running, timeoutMs: number): Promise<void> {
  r.dataPlane.listeners.drain();
  await r.dataPlane.idle(timeoutMs);
  await r.dataPlane.close();
  r.outliers.flush();
  r.outliers.close();
  r.listenerStats.stop();
}

/** Runs a worker on `proc`: says hello, then does what the primary asks. */
export function runWorker(proc: WorkerProcess, writeLog: (line: string) => void): void {
  let running: Running | undefined;
  let draining = false;
  const identity: IdentityHolder = { current: undefined };
  const handle = (m: ToWorker): void => {
    if (m.t === 'init') {
      if (running === undefined) running = start(m.settings, writeLog, identity, proc);
      return;
    }
    if (m.t === 'identity') {
      // The primary's agent renewed the workload certificate: the next handshakes use it.
      const i = m.identity;
      identity.current = { ...i, notBefore: new Date(i.notBefore), notAfter: new Date(i.notAfter) };
      return;
    }
    const r = running;
    if (r === undefined) return; // the primary sends init first; anything before it has nothing to act on
    switch (m.t) {
      case 'config': {
        if (draining) return;
        r.tables.apply(m.tables);
        r.listenerStats.invalidate();
        void r.dataPlane.settled().then(() => proc.send({ t: 'applied', generation: m.generation, initialized: m.initialized }));
        return;
      }
      case 'stats':
        r.stats.refresh();
        proc.send({ t: 'stats', id: m.id, snapshot: snapshotStats(r.stats) });
        return;
      case 'log-level':
        r.logger.setLevel(m.level);
        return;
      case 'queue-ready':
        r.queues?.notify(m.token);
        return;
      case 'outlier-state':
        r.outliers.apply(m.cluster, m.ejected);
        return;
      case 'health-state':
        r.health.apply(m.cluster, m.hosts);
        return;
      case 'dns-hosts':
        r.dataPlane.clusters.setDnsHosts(m.cluster, fromBinary(ClusterLoadAssignmentSchema, m.assignment));
        return;
      case 'drain':
        if (draining) return;
        draining = true;
        void drain(r, m.timeoutMs).then(
          () => proc.exit(0),
          (e: unknown) => {
            r.logger.error('drain failed', { error: e instanceof Error ? e.message : String(e) });
            proc.exit(1);
          },
        );
        return;
    }
  };
  proc.onMessage((raw) => {
    const m = parseToWorker(raw);
    if (m === undefined) writeLog(`${new Date().toISOString()} error worker got a message it does not understand; ignored`);
    else handle(m);
  });
  proc.send({ t: 'hello' });
}
