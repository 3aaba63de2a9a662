// Test support: a raw @grpc/grpc-js ADS client over src/xds/ads-service.ts, as a proxy would speak it,
// with a response queue so tests can await "the next response" (with a deadline) and inspect stream status.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { Client, credentials, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { ADS_SERVICE } from '../../../src/xds/ads-service.js';
import { NodeSchema, type Node } from '../../../src/xds/gen/envoy/config/core/v3/base_pb.js';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../../../src/xds/gen/envoy/service/discovery/v3/discovery_pb.js';

export class AdsTestStream<Req, Res> {
  private readonly queue: Res[] = [];
  private waiter: ((r: Res) => void) | undefined;
  private ended: StatusObject | undefined;
  private endWaiter: ((s: StatusObject) => void) | undefined;

  constructor(private readonly call: ClientDuplexStream<Req, Res>) {
    call.on('data', (r: Res) => {
      const w = this.waiter;
      this.waiter = undefined;
      if (w !== undefined) w(r);
      else this.queue.push(r);
    });
    call.on('status', (s: StatusObject) => {
      this.ended = s;
      this.endWaiter?.(s);
    });
    call.on('error', () => undefined);
  }

  send(req: Req): void {
    this.call.write(req);
  }

  /** Responses received and not yet taken. */
  get buffered(): number {
    return this.queue.length;
  }

  /** The next response; fails after `timeoutMs`. */
  next(what = 'an ADS response', timeoutMs = 5000): Promise<Res> {
    const r = this.queue.shift();
    if (r !== undefined) return Promise.resolve(r);
    return new Promise<Res>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiter = (res) => {
        clearTimeout(t);
        resolve(res);
      };
    });
  }

  /** The stream's final status (e.g. INVALID_ARGUMENT for a bad node). */
  status(timeoutMs = 5000): Promise<StatusObject> {
    if (this.ended !== undefined) return Promise.resolve(this.ended);
    return new Promise<StatusObject>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for the stream to end`)), timeoutMs);
      this.endWaiter = (s) => {
        clearTimeout(t);
        resolve(s);
      };
    });
  }

  close(): void {
    this.call.end();
    this.call.cancel();
  }
}

export function adsClient(address: string): Client {
  return new Client(address, credentials.createInsecure());
}

export function openSotw(client: Client): AdsTestStream<DiscoveryRequest, DiscoveryResponse> {
  const m = ADS_SERVICE.StreamAggregatedResources;
  return new AdsTestStream(client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize));
}

export function openDelta(client: Client): AdsTestStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
  const m = ADS_SERVICE.DeltaAggregatedResources;
  return new AdsTestStream(client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize));
}

/** An Istio-style sidecar node: `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`. */
export function sidecarNode(pod: string, namespace: string, ip = '10.0.0.1', metadata: Record<string, string> = {}): Node {
  return create(NodeSchema, {
    id: `sidecar~${ip}~${pod}.${namespace}~${namespace}.svc.cluster.local`,
    metadata: { NAMESPACE: namespace, ISTIO_VERSION: '1.24.0', CLUSTER_ID: 'Kubernetes', ...metadata },
    locality: { region: 'r1', zone: 'z1' },
  });
}

export function sotwRequest(init: MessageInitShape<typeof DiscoveryRequestSchema>): DiscoveryRequest {
  return create(DiscoveryRequestSchema, init);
}

export function deltaRequest(init: MessageInitShape<typeof DeltaDiscoveryRequestSchema>): DeltaDiscoveryRequest {
  return create(DeltaDiscoveryRequestSchema, init);
}
