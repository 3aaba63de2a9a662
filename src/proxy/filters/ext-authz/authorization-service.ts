// envoy.service.auth.v3.Authorization as a @grpc/grpc-js service definition over the generated protobuf-es
// codecs: the one definition the ext_authz gRPC client uses and tests serve an authorizer with.
// envoy/service/auth/v3/external_auth.proto: `rpc Check(CheckRequest) returns (CheckResponse)`, unary.

import type { ServiceDefinition } from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { CheckRequestSchema, CheckResponseSchema, type CheckRequest, type CheckResponse } from '../../../xds/gen/envoy/service/auth/v3/external_auth_pb.js';

export const AUTHORIZATION_SERVICE_NAME = 'envoy.service.auth.v3.Authorization';

export interface AuthorizationServiceDefinition extends ServiceDefinition {
  Check: {
    path: string;
    requestStream: false;
    responseStream: false;
    requestSerialize: (m: CheckRequest) => Buffer;
    requestDeserialize: (b: Buffer) => CheckRequest;
    responseSerialize: (m: CheckResponse) => Buffer;
    responseDeserialize: (b: Buffer) => CheckResponse;
  };
}

export const AUTHORIZATION_SERVICE: AuthorizationServiceDefinition = {
  Check: {
    path: `/${AUTHORIZATION_SERVICE_NAME}/Check`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m) => Buffer.from(toBinary(CheckRequestSchema, m)),
    requestDeserialize: (b) => fromBinary(CheckRequestSchema, b),
    responseSerialize: (m) => Buffer.from(toBinary(CheckResponseSchema, m)),
    responseDeserialize: (b) => fromBinary(CheckResponseSchema, b),
  },
};
