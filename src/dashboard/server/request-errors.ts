// Which Istio request series count as errors on the service and workload pages, as Kiali's metrics
// pages count them (kiali business/labels_builder.go BuildForErrors): an HTTP response code of 0 (no
// response), 4xx or 5xx, or a gRPC status of 1-16 on a response whose HTTP code is not itself an error.
// The graph's edges count 4xx and 5xx as errors too (service-graph.ts, Kiali's graph rule).

const HTTP_ERROR = /^(0|[45]\d\d)$/;
const GRPC_ERROR = /^([1-9]|1[0-6])$/;

export function isRequestError(labels: Readonly<Record<string, string>>): boolean {
  if (HTTP_ERROR.test(labels['response_code'] ?? '')) return true;
  return GRPC_ERROR.test(labels['grpc_response_status'] ?? '');
}
