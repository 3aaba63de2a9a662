// Serves a DiscoveryServer on a plaintext gRPC port (istiod's :15010). Port 0 picks a free port.
// TLS (:15012) is a later concern of ca/; this only binds, reports the port and shuts down.

import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { DiscoveryServer } from './ads-server.js';

export interface AdsListener {
  readonly port: number;
  /** `host:port` as clients dial it. */
  readonly address: string;
  /** Ends every ADS stream, then stops the gRPC server. */
  close(): Promise<void>;
}

export interface ListenAdsOptions {
  readonly host?: string;
  readonly port: number;
  /** Other services on the same port (istiod serves its CA next to ADS). */
  readonly services?: readonly ((server: Server) => void)[];
}

export async function listenAds(ds: DiscoveryServer, opts: ListenAdsOptions): Promise<AdsListener> {
  const host = opts.host ?? '127.0.0.1';
  const server = new Server();
  ds.addTo(server);
  for (const add of opts.services ?? []) add(server);
  const bindHost = host.includes(':') ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${bindHost}:${opts.port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(new Error(`cannot listen for ADS on ${bindHost}:${opts.port}: ${err.message}`)) : resolve(p)));
  });
  return {
    port,
    address: `${bindHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        ds.close();
        // Streams a peer keeps open would hold tryShutdown forever.
        const force = setTimeout(() => server.forceShutdown(), 1000);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
