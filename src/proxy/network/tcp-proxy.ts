// Envoy's tcp_proxy network filter: picks a cluster (single or weighted), a host, connects (plaintext or
// TLS per the host's transport socket) with up to max_connect_attempts, then pipes bytes both ways with
// back-pressure and half-close, under the idle timeout. A connection that cannot be forwarded is closed
// (Envoy has no way to answer on raw TCP); the access log says why (UH, UF, URX, UO, NC).
// Network filters that see the bytes (envoy.filters.network.wasm) come as TcpConnectionFilters: they run
// their new-connection callbacks before the cluster is picked and every chunk goes through them; a
// connection without them is piped as is (one branch per connection, nothing per chunk).
// A cluster with Istio's metadata exchange upstream filter exchanges workload metadata on connections that
// negotiated its ALPN before any byte is relayed (peer-exchange.ts); the connection counts as opened for Istio's
// stats once that is settled, so its labels carry the peer (istio_stats reports a TCP connection open once the
// peer is known or known to be absent).
// https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/network_filters/tcp_proxy_filter

import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import type { PeerCertificate } from '../http/peer-certificate.js';
import { readInto } from './accepted-reads.js';
import type { IstioStatsFilter } from '../telemetry/istio-metrics.js';
import { uriSanOf } from '../telemetry/principal.js';
import { serverIdentityCheck } from '../upstream/san-check.js';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { TcpProxySchema } from '../../xds/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type { Random } from '../lib/random.js';
import { hashKey } from '../upstream/lb/hash-policy.js';
import { durationMs } from '../runtime/duration.js';
import type { Compiled } from '../runtime/compile-cluster.js';
import type { ClusterHandle, PickedHost } from '../upstream/cluster-handle.js';
import { SDS_MISSING, type SecretSource } from '../upstream/connection-pools.js';
import { dial } from '../upstream/dial.js';
import { ResponseFlag } from '../http/response-flags.js';
import { compileAccessLog, type CompiledAccessLog } from '../runtime/compile-access-log.js';
import type { WasmPluginRegistry } from '../filters/wasm/plugin-registry.js';
import type { OwnWorkload } from '../telemetry/istio-metrics.js';
import type { WorkloadMetadata } from '../telemetry/workload-metadata.js';
import type { StatsScope } from '../stats/stats-store.js';
import { runPeerExchange } from './peer-exchange.js';

export interface CompiledTcpProxy {
  readonly statPrefix: string;
  readonly accessLogs: readonly CompiledAccessLog[];
  readonly clusters: readonly { readonly name: string; readonly weight: number }[];
  readonly totalWeight: number;
  readonly idleTimeoutMs: number;
  readonly maxConnectAttempts: number;
  /** max_downstream_connection_duration (ms; Istio: DestinationRule tcp.maxConnectionDuration): closed then, flag DT. */
  readonly maxDurationMs: number | undefined;
  /** hash_policy source_ip: consistent-hash clusters pick by the client's IP. */
  readonly hashSourceIp: boolean;
  /** Istio's stats filter before tcp_proxy (istio.stats), counted when the connection closes. */
  readonly istioStats?: IstioStatsFilter;
}

export function compileTcpProxy(any: Any, path: string): Compiled<CompiledTcpProxy> {
  const t = anyUnpack(any, TcpProxySchema);
  if (t === undefined) return { ok: false, problems: [`${path}: cannot decode ${TcpProxySchema.typeName}`] };
  const cs = t.clusterSpecifier;
  const problems: string[] = [];
  let clusters: { name: string; weight: number }[] = [];
  if (cs.case === 'cluster') clusters = [{ name: cs.value, weight: 1 }];
  else if (cs.case === 'weightedClusters') clusters = cs.value.clusters.map((c) => ({ name: c.name, weight: c.weight }));
  else problems.push(`${path}.cluster_specifier: one of cluster or weighted_clusters must be set`);
  if (clusters.some((c) => c.name === '')) problems.push(`${path}: cluster names must not be empty`);
  const totalWeight = clusters.reduce((s, c) => s + c.weight, 0);
  if (clusters.length > 0 && totalWeight === 0) problems.push(`${path}.weighted_clusters: sum of weights is 0`);
  if (t.tunnelingConfig !== undefined) problems.push(`${path}.tunneling_config: tunneling TCP over HTTP is not supported`);
  // Config that changes what Envoy does and that this relay does not do: refused rather than ignored.
  if (t.onDemand !== undefined) problems.push(`${path}.on_demand: on-demand cluster discovery is not supported`);
  if (t.metadataMatch !== undefined || (cs.case === 'weightedClusters' && cs.value.clusters.some((c) => c.metadataMatch !== undefined))) {
    problems.push(`${path}.metadata_match: endpoint subsets by metadata are not supported (use a cluster per subset, as Istio does)`);
  }
  const alo = t.accessLogOptions;
  if (t.accessLogFlushInterval !== undefined || t.flushAccessLogOnConnected || alo?.accessLogFlushInterval !== undefined || alo?.flushAccessLogOnConnected === true) {
    problems.push(`${path}.access_log_options: periodic and on-connect access log entries are not supported (one entry when the connection closes)`);
  }
  if (t.hashPolicy.length > 1) problems.push(`${path}.hash_policy: value must contain no more than 1 item(s)`);
  const hp = t.hashPolicy[0]?.policySpecifier;
  if (hp !== undefined && hp.case !== 'sourceIp') problems.push(`${path}.hash_policy[0]: only source_ip is supported`);
  const maxDuration = durationMs(t.maxDownstreamConnectionDuration, 0);
  const accessLogs: CompiledAccessLog[] = [];
  t.accessLog.forEach((l, i) => {
    const c = compileAccessLog(l, `${path}.access_log[${i}]`, problems);
    if (c !== undefined) accessLogs.push(c);
  });
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      statPrefix: t.statPrefix,
      accessLogs,
      clusters,
      totalWeight,
      idleTimeoutMs: durationMs(t.idleTimeout, 3_600_000),
      maxConnectAttempts: Math.max(1, t.maxConnectAttempts ?? 1),
      maxDurationMs: maxDuration > 0 ? maxDuration : undefined,
      hashSourceIp: hp?.case === 'sourceIp',
    },
  };
}

export interface TcpSession {
  readonly proxy: CompiledTcpProxy;
  readonly downstreamLocalAddress: string;
  readonly downstreamRemoteAddress: string;
  readonly serverName: string;
  readonly cluster: string;
  readonly upstreamHost: string;
  readonly flags: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly startMs: number;
  readonly durationMs: number;
  readonly details: string;
  /** The client's verified certificate (mTLS on the downstream connection). */
  readonly downstreamPeer: PeerCertificate | undefined;
  /** URI SANs of the upstream TLS connection's certificates, '' without TLS. */
  readonly upstreamPeerPrincipal: string;
  readonly upstreamLocalPrincipal: string;
  /** The workloads the TCP metadata exchange learnt: the client's (inbound chain) and the server's (cluster). */
  readonly downstreamPeerWorkload: WorkloadMetadata | undefined;
  readonly upstreamPeerWorkload: WorkloadMetadata | undefined;
  /** The same object in every report of one connection (open, progress, close), for per-connection state. */
  readonly connection: object;
}

export interface TcpProxyEnv {
  cluster(name: string): ClusterHandle | undefined;
  readonly random: Random;
  readonly secrets: SecretSource;
  /** Called once per connection when it closes. */
  onSession?(s: TcpSession): void;
  /**
   * With Istio's stats filter on the chain: once the upstream is connected, then every
   * tcp_reporting_duration while the connection lasts (Istio reports long connections' bytes periodically).
   */
  onSessionOpen?(s: TcpSession): void;
  onSessionProgress?(s: TcpSession): void;
  /** The proxy's Wasm plugins (envoy.filters.network.wasm); absent: every plugin counts as unavailable. */
  readonly wasm?: WasmPluginRegistry;
  /** This proxy's workload, sent in the TCP metadata exchange; absent: the frame carries no metadata. */
  readonly workload?: OwnWorkload;
  /** Where the metadata exchange counts (metadata_exchange.*); absent in some tests. */
  readonly stats?: StatsScope;
}

/** Who closed a side of the connection: this proxy (`local`) or the peer (`remote`). */
export type ClosePeer = 'local' | 'remote';

/** What the filters before tcp_proxy may do with the connection. */
export interface TcpFilterIo {
  /** Bytes that passed every filter toward the upstream; `end` half-closes it. */
  toUpstream(data: Buffer, end: boolean): void;
  /** Bytes that passed every filter toward the client; `end` half-closes it. */
  toDownstream(data: Buffer, end: boolean): void;
  /** Closes the connection (both sides); `details` go to the session. */
  close(details: string): void;
  /** `host:port` of the upstream once one is picked, else ''. */
  upstreamHost(): string;
}

/** Network filters ahead of tcp_proxy that see the connection's bytes (read filters, and write filters in reverse). */
export interface TcpConnectionFilters {
  /** Runs the new-connection callbacks; calls `proceed` once all let the connection on (never if they closed it). */
  start(io: TcpFilterIo, proceed: () => void): void;
  /** A downstream chunk (empty with `end` at the client's half-close); what passes goes to io.toUpstream. */
  onDownstreamData(chunk: Buffer, end: boolean): void;
  /** An upstream chunk (empty with `end` at the upstream's half-close); what passes goes to io.toDownstream. */
  onUpstreamData(chunk: Buffer, end: boolean): void;
  /** The connection is over: close callbacks, then the filters end. Called once. */
  closed(downstream: ClosePeer, upstreamOpened: boolean): void;
}

const EMPTY = Buffer.alloc(0);

function chooseCluster(p: CompiledTcpProxy, random: Random): string {
  if (p.clusters.length === 1) return (p.clusters[0] as { name: string }).name;
  let r = random.next() * p.totalWeight;
  for (const c of p.clusters) {
    r -= c.weight;
    if (r < 0) return c.name;
  }
  return (p.clusters[p.clusters.length - 1] as { name: string }).name;
}

/** Bytes read from the upstream per read when they go straight to the client (reads reuse the buffer). */
const RELAY_READ_BYTES = 16 * 1024;

/**
 * Reads relayed straight into `to` (Node's `onread`): a plaintext upstream's reads go to the client, and the
 * client's to the upstream (readInto). Each read lands in a reused buffer and is written on at once, with no
 * Buffer allocated per read and no Readable stream in between (about a tenth more requests/s than
 * `upstream.pipe(downstream)` through a bare relay, measured side by side with wrk -c50 on one core). A write
 * the kernel did not take whole keeps its bytes in the buffer until sent, so the next reads go to a new one.
 * A full destination pauses the reading side until it drains.
 */
export function relayReads(to: Socket): { buffer: () => Buffer; callback: (n: number, b: Buffer) => boolean } {
  let buf = Buffer.allocUnsafe(RELAY_READ_BYTES);
  return {
    buffer: () => buf,
    callback(n, b) {
      if (to.destroyed || to.writableEnded) return true;
      const ok = to.write(n === b.length ? b : b.subarray(0, n));
      if (to.writableLength > 0) buf = Buffer.allocUnsafe(RELAY_READ_BYTES);
      return ok;
    },
  };
}

/** Wires the sockets through the filters with back-pressure: a full side pauses the other until it drains. */
function wireFilters(downstream: Socket, upstream: Socket, filters: TcpConnectionFilters, onRemoteEnd: () => void): void {
  downstream.on('data', (d: Buffer) => filters.onDownstreamData(d, false));
  downstream.on('end', () => {
    onRemoteEnd();
    filters.onDownstreamData(EMPTY, true);
  });
  upstream.on('data', (d: Buffer) => filters.onUpstreamData(d, false));
  upstream.on('end', () => filters.onUpstreamData(EMPTY, true));
}

/** Checks per idle timeout: a connection idle for the timeout closes within another 1/IDLE_STEPS of it. */
const IDLE_STEPS = 8;

/**
 * tcp_proxy's idle_timeout: "no bytes sent or received on either the upstream or downstream connection" for
 * the timeout. Checked IDLE_STEPS times per timeout by comparing byte counts, so no timer is touched per chunk
 * (socket.setTimeout refreshes its timer on every read and write); the connection closes after between
 * IDLE_STEPS and IDLE_STEPS + 1 quiet checks.
 */
function watchIdle(downstream: Socket, upstream: Socket, timeoutMs: number, onIdle: () => void): NodeJS.Timeout {
  const bytes = (): number => downstream.bytesRead + downstream.bytesWritten + upstream.bytesRead + upstream.bytesWritten;
  let seen = bytes();
  let quiet = 0;
  const t = setInterval(() => {
    const now = bytes();
    if (now !== seen) {
      seen = now;
      quiet = 0;
    } else if (++quiet >= IDLE_STEPS) onIdle();
  }, Math.max(1, Math.ceil(timeoutMs / IDLE_STEPS)));
  t.unref();
  return t;
}

function writeWithBackpressure(to: Socket, from: Socket | undefined, data: Buffer, end: boolean): void {
  if (to.destroyed || to.writableEnded) return;
  if (data.length > 0 && !to.write(data) && from !== undefined && !from.isPaused()) {
    from.pause();
    to.once('drain', () => from.resume());
  }
  if (end) to.end();
}

/**
 * Proxies `downstream` (already accepted; any inspected bytes unshifted back) to the proxy's cluster.
 * `originalDestination` (host:port) serves ORIGINAL_DST clusters such as PassthroughCluster.
 * `filters`: the network filters before tcp_proxy that see the bytes (undefined: none, the sockets are piped).
 * `downstreamPeerWorkload`: the client's workload, when the chain's metadata exchange learnt it.
 */
export function runTcpProxy(
  downstream: Socket,
  p: CompiledTcpProxy,
  env: TcpProxyEnv,
  originalDestination: string | undefined,
  filters?: TcpConnectionFilters,
  downstreamPeer?: PeerCertificate,
  downstreamPeerWorkload?: WorkloadMetadata,
): void {
  const startMs = Date.now();
  const clusterName = chooseCluster(p, env.random);
  let flags = 0;
  let details = '';
  let upstreamHost = '';
  let upstreamPeerPrincipal = '';
  let upstreamLocalPrincipal = '';
  let upstreamPeerWorkload: WorkloadMetadata | undefined;
  let upstream: Socket | undefined;
  let finished = false;
  /** The client half-closed or reset first (the downstream close is REMOTE for the filters). */
  let remoteClosed = false;
  downstream.pause();
  // Addresses and byte counts as of now: a CONNECT tunnel's socket has already carried the CONNECT exchange.
  const local = `${downstream.localAddress ?? ''}:${downstream.localPort ?? 0}`;
  const remote = `${downstream.remoteAddress ?? ''}:${downstream.remotePort ?? 0}`;
  const read0 = downstream.bytesRead - downstream.readableLength;
  const written0 = downstream.bytesWritten;
  const session = (): TcpSession => ({
    proxy: p,
    downstreamLocalAddress: local,
    downstreamRemoteAddress: remote,
    serverName: (downstream as Socket & { servername?: string }).servername ?? '',
    cluster: clusterName, upstreamHost, flags, bytesReceived: downstream.bytesRead - read0, bytesSent: downstream.bytesWritten - written0, startMs, durationMs: Date.now() - startMs, details,
    downstreamPeer, upstreamPeerPrincipal, upstreamLocalPrincipal, downstreamPeerWorkload, upstreamPeerWorkload, connection: downstream,
  });
  let reporting: NodeJS.Timeout | undefined;
  let idleWatch: NodeJS.Timeout | undefined;
  let durationTimer: NodeJS.Timeout | undefined;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    if (reporting !== undefined) clearInterval(reporting);
    if (durationTimer !== undefined) clearTimeout(durationTimer);
    if (idleWatch !== undefined) clearInterval(idleWatch);
    downstream.destroy();
    upstream?.destroy();
    filters?.closed(remoteClosed ? 'remote' : 'local', upstream !== undefined);
    env.onSession?.(session());
  };
  /** Istio's stats filter counts the connection open now, and its bytes every reporting interval. */
  const opened = (): void => {
    // Envoy arms max_downstream_connection_duration once the upstream is connected (onUpstreamConnection).
    if (p.maxDurationMs !== undefined) {
      durationTimer = setTimeout(() => {
        flags |= ResponseFlag.DT;
        details = 'max_downstream_connection_duration_reached';
        finish();
      }, p.maxDurationMs);
      durationTimer.unref();
    }
    const every = p.istioStats?.config.tcpReportingMs ?? 0;
    if (p.istioStats === undefined || env.onSessionOpen === undefined) return;
    env.onSessionOpen(session());
    if (every > 0 && env.onSessionProgress !== undefined) {
      const progress = env.onSessionProgress;
      reporting = setInterval(() => progress(session()), every);
      reporting.unref();
    }
  };
  downstream.on('error', () => {
    remoteClosed = true;
    finish();
  });
  downstream.on('close', () => {
    if (upstream === undefined) flags |= ResponseFlag.DC;
    finish();
  });
  const connectUpstream = (): void => {
    const cluster = env.cluster(clusterName);
    if (cluster === undefined) {
      flags |= ResponseFlag.NC;
      details = 'cluster_not_found';
      return finish();
    }
    if (!cluster.tryAcquire('connections')) {
      cluster.envoyStats.cxOverflow.inc();
      flags |= ResponseFlag.UO;
      return finish();
    }
    let attempts = 0;
    const tried = new Set<string>();
    const attempt = (): void => {
      attempts++;
      const host = cluster.pick({ hash: p.hashSourceIp ? hashKey([{ kind: 'source-ip', ip: downstream.remoteAddress ?? '' }]) : undefined, avoid: tried, originalDestination });
      if (host === undefined) {
        flags |= ResponseFlag.UH;
        details = 'no_healthy_upstream';
        cluster.release('connections');
        return finish();
      }
      tried.add(host.key);
      upstreamHost = host.key;
      // Bytes go straight from a plaintext upstream's reads to the client when no network filter sees them
      // (the metadata exchange needs TLS with its ALPN, so it never reads a plaintext upstream's bytes).
      const direct = filters === undefined ? downstream : undefined;
      const s = dial(host, cluster, env.secrets, direct !== undefined ? relayReads(direct) : undefined);
      if (typeof s === 'string') return failed(host, s);
      const cx = cluster.connectionEvents(host, 'tcp');
      cx.opened();
      s.once('close', () => cx.closed());
      const reads = direct !== undefined && !(s instanceof TLSSocket) ? 'direct' : 'stream';
      const timer = setTimeout(() => s.destroy(new Error('connect timeout')), cluster.config.connectTimeoutMs);
      let connected = false;
      s.once(host.transport.kind === 'tls' ? 'secureConnect' : 'connect', () => {
        connected = true;
        clearTimeout(timer);
        if (finished) {
          s.destroy();
          return;
        }
        upstream = s;
        if (s instanceof TLSSocket) {
          upstreamPeerPrincipal = uriSanOf(s.getPeerX509Certificate());
          upstreamLocalPrincipal = uriSanOf(s.getX509Certificate());
        }
        cluster.report(host, 'success');
        s.on('close', () => {
          cluster.release('connections');
          if (!finished) downstream.end();
        });
        const mx = cluster.config.peerExchange;
        if (mx === undefined) return relay(s, reads);
        runPeerExchange(s, mx, { own: env.workload, timeoutMs: p.idleTimeoutMs, stats: env.stats }, (o) => {
          if (finished) return;
          if (o.kind === 'closed') {
            details = o.reason === 'idle_timeout' ? o.reason : `upstream metadata exchange: ${o.reason}`;
            return finish();
          }
          if (o.kind === 'exchanged') upstreamPeerWorkload = o.peer;
          relay(s, reads);
        });
      });
      s.on('error', (e) => {
        clearTimeout(timer);
        if (!connected) failed(host, e.message);
        else finish();
      });
      return undefined;
    };
    /** The upstream is connected (and its metadata exchange settled): counted opened, then bytes flow both ways. */
    const relay = (s: Socket, reads: 'direct' | 'stream'): void => {
      opened();
      s.setNoDelay(true);
      if (filters === undefined) {
        // The client's reads go straight to the upstream the same way where Node lets them (accepted-reads.ts).
        if (readInto(downstream, relayReads(s))) {
          downstream.on('end', () => s.end());
          s.on('drain', () => downstream.resume());
        } else downstream.pipe(s);
        if (reads === 'stream') s.pipe(downstream);
        else {
          // The reads are already relayed (relayReads); a paused upstream waits for the client to drain.
          downstream.on('drain', () => s.resume());
          s.on('end', () => downstream.end());
        }
      } else
        wireFilters(downstream, s, filters, () => {
          remoteClosed = true;
        });
      downstream.resume();
      // A socket paused by the metadata exchange does not flow again by itself when 'data' listeners are added.
      s.resume();
      if (p.idleTimeoutMs > 0) {
        idleWatch = watchIdle(downstream, s, p.idleTimeoutMs, () => {
          details = 'idle_timeout';
          finish();
        });
      }
    };
    const failed = (host: PickedHost, reason: string): void => {
      cluster.report(host, 'local-origin-failure');
      details = `upstream connect failure: ${reason}`;
      if (attempts < p.maxConnectAttempts && !finished) return attempt();
      flags |= ResponseFlag.UF;
      if (p.maxConnectAttempts > 1) flags |= ResponseFlag.URX;
      cluster.release('connections');
      finish();
    };
    attempt();
  };
  if (filters === undefined) connectUpstream();
  else
    filters.start(
      {
        toUpstream: (d, end) => {
          if (upstream !== undefined && !finished) writeWithBackpressure(upstream, downstream, d, end);
        },
        toDownstream: (d, end) => {
          if (!finished) writeWithBackpressure(downstream, upstream, d, end);
        },
        close: (why) => {
          details = why;
          finish();
        },
        upstreamHost: () => upstreamHost,
      },
      () => {
        if (!finished) connectUpstream();
      },
    );
}
