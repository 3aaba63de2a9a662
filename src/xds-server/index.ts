// The xDS server's public surface for bin/ and cli/: the ADS server, its gRPC and monitoring listeners,
// and the status shapes `proxy-status` reads.

export { DiscoveryServer, type DiscoveryServerOptions, type PushResult } from './ads-server.js';
export { listenAds, type AdsListener } from './grpc-listen.js';
export { startMonitoringServer, monitoringHandler, type MonitoringServer } from './monitoring.js';
export { XdsMetrics } from './metrics.js';
export type { Translate } from './generation.js';
export type { ConfigStatus, ProxySyncDetail, ResourceSyncStatus, SyncStatus, TypeSyncDetail, NackView } from './sync-status.js';
