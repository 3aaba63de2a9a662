// The Aggregated Discovery Service as a @grpc/grpc-js service definition over the generated protobuf-es
// codecs: the one definition both the control plane (server) and the proxy (client) use.
// envoy/service/discovery/v3/ads.proto: StreamAggregatedResources (state of the world) and
// DeltaAggregatedResources (incremental), both bidirectional streams.

import type { ServiceDefinition } from '@grpc/grpc-js';
import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import {
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from './gen/envoy/service/discovery/v3/discovery_pb.js';

export const ADS_SERVICE_NAME = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

function codec<D extends DescMessage>(schema: D): { serialize: (m: MessageShape<D>) => Buffer; deserialize: (b: Buffer) => MessageShape<D> } {
  return {
    serialize: (m) => Buffer.from(toBinary(schema, m)),
    deserialize: (b) => fromBinary(schema, b),
  };
}

const sotwReq = codec(DiscoveryRequestSchema);
const sotwRes = codec(DiscoveryResponseSchema);
const deltaReq = codec(DeltaDiscoveryRequestSchema);
const deltaRes = codec(DeltaDiscoveryResponseSchema);

export interface AdsServiceDefinition extends ServiceDefinition {
  StreamAggregatedResources: {
    path: string;
    requestStream: true;
    responseStream: true;
    requestSerialize: (m: DiscoveryRequest) => Buffer;
    requestDeserialize: (b: Buffer) => DiscoveryRequest;
    responseSerialize: (m: DiscoveryResponse) => Buffer;
    responseDeserialize: (b: Buffer) => DiscoveryResponse;
  };
  DeltaAggregatedResources: {
    path: string;
    requestStream: true;
    responseStream: true;
    requestSerialize: (m: DeltaDiscoveryRequest) => Buffer;
    requestDeserialize: (b: Buffer) => DeltaDiscoveryRequest;
    responseSerialize: (m: DeltaDiscoveryResponse) => Buffer;
    responseDeserialize: (b: Buffer) => DeltaDiscoveryResponse;
  };
}

export const ADS_SERVICE: AdsServiceDefinition = {
  StreamAggregatedResources: {
    path: `/${ADS_SERVICE_NAME}/StreamAggregatedResources`,
    requestStream: true,
    responseStream: true,
    requestSerialize: sotwReq.serialize,
    requestDeserialize: sotwReq.deserialize,
    responseSerialize: sotwRes.serialize,
    responseDeserialize: sotwRes.deserialize,
  },
  DeltaAggregatedResources: {
    path: `/${ADS_SERVICE_NAME}/DeltaAggregatedResources`,
    requestStream: true,
    responseStream: true,
    requestSerialize: deltaReq.serialize,
    requestDeserialize: deltaReq.deserialize,
    responseSerialize: deltaRes.serialize,
    responseDeserialize: deltaRes.deserialize,
  },
};
