// networking.istio.io VirtualService, HTTP part: the schemas of HTTPRoute and the messages it is built from
// (istio/api networking/v1alpha3/virtual_service.proto; v1 and v1beta1 are the same messages). Destination
// and PortSelector, which TCP and TLS routes share, are in route-common.ts. Istio's checks on these are in
// http-route-validation.ts, http-match.ts and http-headers.ts; virtual-service.ts re-exports the types.

import { durationString, enumOf, int32, obj, stringMap, uint32, z } from '../schema.js';
import { DestinationSchema } from './route-common.js';

/** oneof match_type { exact, prefix, regex }; checked with onlyOneOf in the validator. */
export const StringMatchSchema = obj({
  exact: z.string().optional(),
  prefix: z.string().optional(),
  regex: z.string().optional(),
});
export type StringMatch = z.infer<typeof StringMatchSchema>;

export const PercentSchema = obj({ value: z.number().optional() });
export type Percent = z.infer<typeof PercentSchema>;

export const HeaderOperationsSchema = obj({
  set: stringMap.optional(),
  add: stringMap.optional(),
  remove: z.array(z.string()).optional(),
});
export type HeaderOperations = z.infer<typeof HeaderOperationsSchema>;

export const HeadersSchema = obj({ request: HeaderOperationsSchema.optional(), response: HeaderOperationsSchema.optional() });
export type Headers = z.infer<typeof HeadersSchema>;

export const HTTPMatchRequestSchema = obj({
  name: z.string().optional(),
  uri: StringMatchSchema.optional(),
  scheme: StringMatchSchema.optional(),
  method: StringMatchSchema.optional(),
  authority: StringMatchSchema.optional(),
  headers: z.record(z.string(), StringMatchSchema).optional(),
  port: uint32.optional(),
  sourceLabels: stringMap.optional(),
  gateways: z.array(z.string()).optional(),
  queryParams: z.record(z.string(), StringMatchSchema).optional(),
  ignoreUriCase: z.boolean().optional(),
  withoutHeaders: z.record(z.string(), StringMatchSchema).optional(),
  sourceNamespace: z.string().optional(),
  statPrefix: z.string().optional(),
});
export type HTTPMatchRequest = z.infer<typeof HTTPMatchRequestSchema>;

export const HTTPRouteDestinationSchema = obj({
  destination: DestinationSchema.optional(),
  weight: int32.optional(),
  headers: HeadersSchema.optional(),
});
export type HTTPRouteDestination = z.infer<typeof HTTPRouteDestinationSchema>;

export const REDIRECT_PORT_SELECTIONS = ['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'] as const;

/** oneof redirect_port { port, derivePort }. */
export const HTTPRedirectSchema = obj({
  uri: z.string().optional(),
  authority: z.string().optional(),
  port: uint32.optional(),
  derivePort: enumOf(REDIRECT_PORT_SELECTIONS).optional(),
  scheme: z.string().optional(),
  redirectCode: uint32.optional(),
  prefixRewrite: z.string().optional(),
});
export type HTTPRedirect = z.infer<typeof HTTPRedirectSchema>;

/** oneof specifier { string, bytes }; `bytes` is base64 as in protobuf JSON. */
export const HTTPBodySchema = obj({ string: z.string().optional(), bytes: z.string().optional() });
export type HTTPBody = z.infer<typeof HTTPBodySchema>;

export const HTTPDirectResponseSchema = obj({ status: uint32.optional(), body: HTTPBodySchema.optional() });
export type HTTPDirectResponse = z.infer<typeof HTTPDirectResponseSchema>;

export const DelegateSchema = obj({ name: z.string().optional(), namespace: z.string().optional() });
export type Delegate = z.infer<typeof DelegateSchema>;

export const RegexRewriteSchema = obj({ match: z.string().optional(), rewrite: z.string().optional() });
export type RegexRewrite = z.infer<typeof RegexRewriteSchema>;

export const HTTPRewriteSchema = obj({
  uri: z.string().optional(),
  authority: z.string().optional(),
  uriRegexRewrite: RegexRewriteSchema.optional(),
});
export type HTTPRewrite = z.infer<typeof HTTPRewriteSchema>;

export const HTTPRetrySchema = obj({
  attempts: int32.optional(),
  perTryTimeout: durationString.optional(),
  retryOn: z.string().optional(),
  retryRemoteLocalities: z.boolean().optional(),
  retryIgnorePreviousHosts: z.boolean().optional(),
  backoff: durationString.optional(),
});
export type HTTPRetry = z.infer<typeof HTTPRetrySchema>;

export const UNMATCHED_PREFLIGHTS = ['UNSPECIFIED', 'FORWARD', 'IGNORE'] as const;

export const CorsPolicySchema = obj({
  /** Deprecated: use allowOrigins. */
  allowOrigin: z.array(z.string()).optional(),
  allowOrigins: z.array(StringMatchSchema).optional(),
  allowMethods: z.array(z.string()).optional(),
  allowHeaders: z.array(z.string()).optional(),
  exposeHeaders: z.array(z.string()).optional(),
  maxAge: durationString.optional(),
  allowCredentials: z.boolean().optional(),
  unmatchedPreflights: enumOf(UNMATCHED_PREFLIGHTS).optional(),
});
export type CorsPolicy = z.infer<typeof CorsPolicySchema>;

/** oneof http_delay_type { fixedDelay, exponentialDelay }. */
export const HTTPFaultDelaySchema = obj({
  /** Deprecated: use percentage. */
  percent: int32.optional(),
  fixedDelay: durationString.optional(),
  exponentialDelay: durationString.optional(),
  percentage: PercentSchema.optional(),
});
export type HTTPFaultDelay = z.infer<typeof HTTPFaultDelaySchema>;

/** oneof error_type { httpStatus, grpcStatus, http2Error }. */
export const HTTPFaultAbortSchema = obj({
  httpStatus: int32.optional(),
  grpcStatus: z.string().optional(),
  http2Error: z.string().optional(),
  percentage: PercentSchema.optional(),
});
export type HTTPFaultAbort = z.infer<typeof HTTPFaultAbortSchema>;

export const HTTPFaultInjectionSchema = obj({ delay: HTTPFaultDelaySchema.optional(), abort: HTTPFaultAbortSchema.optional() });
export type HTTPFaultInjection = z.infer<typeof HTTPFaultInjectionSchema>;

export const HTTPMirrorPolicySchema = obj({ destination: DestinationSchema.optional(), percentage: PercentSchema.optional() });
export type HTTPMirrorPolicy = z.infer<typeof HTTPMirrorPolicySchema>;

export const HTTPRouteSchema = obj({
  name: z.string().optional(),
  match: z.array(HTTPMatchRequestSchema).optional(),
  route: z.array(HTTPRouteDestinationSchema).optional(),
  redirect: HTTPRedirectSchema.optional(),
  directResponse: HTTPDirectResponseSchema.optional(),
  delegate: DelegateSchema.optional(),
  rewrite: HTTPRewriteSchema.optional(),
  timeout: durationString.optional(),
  retries: HTTPRetrySchema.optional(),
  fault: HTTPFaultInjectionSchema.optional(),
  mirror: DestinationSchema.optional(),
  mirrors: z.array(HTTPMirrorPolicySchema).optional(),
  /** Deprecated (google.protobuf.UInt32Value): use mirrorPercentage. */
  mirrorPercent: uint32.optional(),
  mirrorPercentage: PercentSchema.optional(),
  corsPolicy: CorsPolicySchema.optional(),
  headers: HeadersSchema.optional(),
});
export type HTTPRoute = z.infer<typeof HTTPRouteSchema>;
