// The access log formats a mesh proxy is configured with by default.
// ISTIO_TEXT_FORMAT and ISTIO_JSON_FORMAT are Istio's EnvoyTextLogFormat and EnvoyJSONLogFormatIstio
// (istio/istio pilot/pkg/model/telemetry_logging.go, "for Istio 1.9 onwards"), used when MeshConfig
// accessLogFile is set with accessLogEncoding TEXT or JSON and no accessLogFormat. ENVOY_DEFAULT_FORMAT is
// Envoy's own default (SubstitutionFormatUtils::DEFAULT_FORMAT), used when an access logger has no format.

import type { JsonFormatSpec } from './json-formatter.js';

export { ISTIO_TEXT_FORMAT } from '../../../xds/istio-access-log-formats.js';
import { ISTIO_JSON_FORMAT as JSON_FORMAT } from '../../../xds/istio-access-log-formats.js';

export const ISTIO_JSON_FORMAT: JsonFormatSpec = JSON_FORMAT;

export const ENVOY_DEFAULT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  '%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% ' +
  '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% ' +
  '"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" ' +
  '"%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';
