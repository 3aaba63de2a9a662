// The gRPC definition of Istio's certificate service (istio.v1.auth.IstioCertificateService/CreateCertificate),
// shared by the control plane's CA (server) and the proxy's workload agent (client). Istio's agent calls it
// with the workload's token as `authorization: Bearer <jwt>` and a CSR; the answer is the chain, leaf first.

import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { ServiceDefinition } from '@grpc/grpc-js';
import {
  IstioCertificateRequestSchema,
  IstioCertificateResponseSchema,
  type IstioCertificateRequest,
  type IstioCertificateResponse,
} from './gen/istio/v1/auth/ca_pb.js';

export const CA_SERVICE_NAME = 'istio.v1.auth.IstioCertificateService';

export interface CaServiceDefinition extends ServiceDefinition {
  CreateCertificate: {
    path: string;
    requestStream: false;
    responseStream: false;
    requestSerialize: (m: IstioCertificateRequest) => Buffer;
    requestDeserialize: (b: Buffer) => IstioCertificateRequest;
    responseSerialize: (m: IstioCertificateResponse) => Buffer;
    responseDeserialize: (b: Buffer) => IstioCertificateResponse;
  };
}

export const CA_SERVICE: CaServiceDefinition = {
  CreateCertificate: {
    path: `/${CA_SERVICE_NAME}/CreateCertificate`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m) => Buffer.from(toBinary(IstioCertificateRequestSchema, m)),
    requestDeserialize: (b) => fromBinary(IstioCertificateRequestSchema, b),
    responseSerialize: (m) => Buffer.from(toBinary(IstioCertificateResponseSchema, m)),
    responseDeserialize: (b) => fromBinary(IstioCertificateResponseSchema, b),
  },
};

/** Istio's audience for workload tokens sent to the CA (istio-agent's default, `istio-ca`). */
export const CA_TOKEN_AUDIENCE = 'istio-ca';
