// MeshConfig's extensionProviders and defaultProviders: the ext_authz providers CUSTOM AuthorizationPolicies
// name (envoyExtAuthzHttp / envoyExtAuthzGrpc, validated as Istio's
// pkg/config/validation/agent/extensionprovider.go and authz/builder/extauthz.go do), the tracing providers
// (opentelemetry, zipkin), the access log providers (envoyFileAccessLog; the ALS kinds by name only), and the
// names of the prometheus providers. A user's provider replaces a default one of the same name, as Istio's
// ApplyMeshConfig merges them. Every problem is named by its field path.

import type { JsonObject } from '@bufbuild/protobuf';
import { at, error } from '../lib/issue.js';
import { isObj, type Obj, type Reader } from './mesh-config-reader.js';

export interface DefaultProviders {
  readonly metrics: readonly string[];
  /** Tracing providers used when no Telemetry names one (only the first is used, as in Istio); absent = none. */
  readonly tracing?: readonly string[];
  /** Access-log providers used when no Telemetry names one (defaultProviders.accessLogging); absent = none. */
  readonly accessLogging?: readonly string[];
}

/** includeRequestBodyInCheck: the request body sent to the authorizer. */
export interface ExtAuthzRequestBody {
  readonly maxRequestBytes: number;
  readonly allowPartialMessage: boolean;
  readonly packAsBytes: boolean;
}

interface ExtAuthzCommon {
  /** `hostname` or `namespace/hostname` of the authorizer's service. */
  readonly service: string;
  readonly port: number;
  /** Undefined = Istio's default (600 s). */
  readonly timeoutMs?: number;
  readonly failOpen: boolean;
  /** An HTTP status code as a string ('' = 403). */
  readonly statusOnError: string;
  readonly includeRequestBodyInCheck?: ExtAuthzRequestBody;
}

export interface ExtAuthzHttpProvider extends ExtAuthzCommon {
  readonly pathPrefix: string;
  readonly includeRequestHeadersInCheck: readonly string[];
  readonly includeAdditionalHeadersInCheck: Readonly<Record<string, string>>;
  readonly headersToUpstreamOnAllow: readonly string[];
  readonly headersToDownstreamOnDeny: readonly string[];
  readonly headersToDownstreamOnAllow: readonly string[];
}

export type ExtAuthzGrpcProvider = ExtAuthzCommon;

/** A header sent with exported spans (MeshConfig.ExtensionProvider.HttpHeader; only `value`, not `envName`). */
export interface TracingHttpHeader {
  readonly name: string;
  readonly value: string;
}

/** opentelemetry: spans exported over OTLP/HTTP (`http`) or OTLP/gRPC (`grpc`, the default when `http` is unset). */
export interface OpenTelemetryTracingProvider {
  /** `hostname` or `namespace/hostname` of the collector's service. */
  readonly service: string;
  readonly port: number;
  /** 0 = Envoy's default (256). */
  readonly maxTagLength: number;
  readonly http?: { readonly path: string; readonly timeoutMs?: number; readonly headers: readonly TracingHttpHeader[] };
  readonly grpc?: { readonly timeoutMs?: number; readonly initialMetadata: readonly TracingHttpHeader[] };
}

/** zipkin: spans exported as Zipkin v2 JSON, B3 propagation. */
export interface ZipkinTracingProvider {
  readonly service: string;
  readonly port: number;
  readonly maxTagLength: number;
  /** '' = Istio's default `/api/v2/spans`. */
  readonly path: string;
  readonly enable64bitTraceId: boolean;
}

export type ExtensionProvider =
  | { readonly name: string; readonly kind: 'envoyExtAuthzHttp'; readonly envoyExtAuthzHttp: ExtAuthzHttpProvider }
  | { readonly name: string; readonly kind: 'envoyExtAuthzGrpc'; readonly envoyExtAuthzGrpc: ExtAuthzGrpcProvider }
  | { readonly name: string; readonly kind: 'opentelemetry'; readonly opentelemetry: OpenTelemetryTracingProvider }
  | { readonly name: string; readonly kind: 'zipkin'; readonly zipkin: ZipkinTracingProvider };

/** envoyFileAccessLog.logFormat: a text format (`%...%` command operators) or JSON labels (key -> operator). */
export type FileAccessLogFormat = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'labels'; readonly labels: JsonObject };

/** envoyFileAccessLog: Envoy's file access logger (EnvoyFileAccessLogProvider). */
export interface FileAccessLogProvider {
  /** '' = /dev/stdout. */
  readonly path: string;
  /** Absent = Istio's default text format (or, for the built-in `envoy` provider, the mesh's accessLogEncoding/Format). */
  readonly logFormat?: FileAccessLogFormat;
  readonly omitEmptyValues: boolean;
}

/** Access-log provider kinds Istio has that Isthmus does not run. */
export const UNSUPPORTED_ACCESS_LOG_KINDS = ['envoyHttpAls', 'envoyTcpAls', 'envoyOtelAls'] as const;
export type UnsupportedAccessLogKind = (typeof UNSUPPORTED_ACCESS_LOG_KINDS)[number];

export type AccessLogProvider =
  | { readonly name: string; readonly kind: 'envoyFileAccessLog'; readonly envoyFileAccessLog: FileAccessLogProvider }
  | { readonly name: string; readonly kind: UnsupportedAccessLogKind };

/** The built-in provider of Istio's DefaultMeshConfig (pkg/config/mesh/mesh.go). */
export const BUILTIN_ENVOY_ACCESS_LOG: AccessLogProvider = Object.freeze({
  name: 'envoy',
  kind: 'envoyFileAccessLog',
  envoyFileAccessLog: Object.freeze({ path: '/dev/stdout', omitEmptyValues: false }),
});

/** extauthz.go validateProviderName: a DNS-1123 label. */
function providerNameProblem(name: string): string | undefined {
  if (name.length > 63) return `provider name too long (max 63 characters): ${name.length}`;
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c === '-') continue;
    if (c >= 'A' && c <= 'Z') return `uppercase letters not allowed (use lowercase): character ${JSON.stringify(c)} at position ${i}`;
    return `invalid character ${JSON.stringify(c)} at position ${i} (only lowercase letters, digits, and hyphens allowed)`;
  }
  if (name.startsWith('-') || name.endsWith('-')) return 'provider name cannot start or end with hyphen';
  return undefined;
}

/** envoy.type.v3.StatusCode values (Istio accepts only these for statusOnError). */
const KNOWN_STATUS = new Set([
  100, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 423, 424, 426, 428, 429, 431, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

function readCommon(r: Reader, o: Obj, path: string): ExtAuthzCommon {
  const service = r.str(o, 'service', path, '');
  if (service === '') r.issues.push(error(at(path, 'service'), 'service must not be empty'));
  const port = r.uint(o, 'port', path);
  if (port < 1 || port > 65535) r.issues.push(error(at(path, 'port'), `port must be in the range [1, 65535], found: ${port}`));
  const statusOnError = r.str(o, 'statusOnError', path, '');
  if (statusOnError !== '' && !(/^\d+$/.test(statusOnError) && KNOWN_STATUS.has(Number(statusOnError))))
    r.issues.push(error(at(path, 'statusOnError'), `unsupported statusOnError ${statusOnError}`));
  const timeoutMs = r.duration(o, 'timeout', path);
  let body: ExtAuthzRequestBody | undefined;
  const b = o['includeRequestBodyInCheck'];
  if (b !== undefined && b !== null) {
    const bp = at(path, 'includeRequestBodyInCheck');
    if (!isObj(b)) r.issues.push(error(bp, 'must be an object'));
    else body = { maxRequestBytes: r.uint(b, 'maxRequestBytes', bp), allowPartialMessage: r.bool(b, 'allowPartialMessage', bp, false), packAsBytes: r.bool(b, 'packAsBytes', bp, false) };
  }
  return { service, port, failOpen: r.bool(o, 'failOpen', path, false), statusOnError, ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(body !== undefined ? { includeRequestBodyInCheck: body } : {}) };
}

function readHeaderList(r: Reader, o: Obj, key: string, path: string): string[] {
  const l = r.strings(o, key, path);
  l.forEach((h, i) => {
    if (h === '*') r.issues.push(error(`${at(path, key)}[${i}]`, 'a single wildcard ("*") is not supported, change it to either prefix or suffix match'));
  });
  return l;
}

function readHttp(r: Reader, o: Obj, path: string): ExtAuthzHttpProvider {
  const pathPrefix = r.str(o, 'pathPrefix', path, '');
  if (pathPrefix !== '' && !pathPrefix.startsWith('/')) r.issues.push(error(at(path, 'pathPrefix'), `pathPrefix should begin with \`/\` but found ${JSON.stringify(pathPrefix)}`));
  return {
    ...readCommon(r, o, path),
    pathPrefix,
    includeRequestHeadersInCheck: readHeaderList(r, o, 'includeRequestHeadersInCheck', path),
    includeAdditionalHeadersInCheck: r.stringMap(o, 'includeAdditionalHeadersInCheck', path),
    headersToUpstreamOnAllow: readHeaderList(r, o, 'headersToUpstreamOnAllow', path),
    headersToDownstreamOnDeny: readHeaderList(r, o, 'headersToDownstreamOnDeny', path),
    headersToDownstreamOnAllow: readHeaderList(r, o, 'headersToDownstreamOnAllow', path),
  };
}

/** service and port of a tracing provider (extensionprovider.go validateExtensionProviderService, ValidatePort). */
function readTracingTarget(r: Reader, o: Obj, path: string): { service: string; port: number; maxTagLength: number } {
  const service = r.str(o, 'service', path, '');
  if (service === '') r.issues.push(error(at(path, 'service'), 'service must not be empty'));
  const port = r.uint(o, 'port', path);
  if (port < 1 || port > 65535) r.issues.push(error(at(path, 'port'), `invalid service port: port number ${port} must be in the range 1..65535`));
  return { service, port, maxTagLength: r.uint(o, 'maxTagLength', path) };
}

/** HttpHeader[]: `name` with `value`; `envName` (a variable of istiod's environment) is not supported. */
function readTracingHeaders(r: Reader, o: Obj, key: string, path: string): TracingHttpHeader[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    r.issues.push(error(at(path, key), 'must be a list'));
    return [];
  }
  const out: TracingHttpHeader[] = [];
  v.forEach((h: unknown, i) => {
    const hp = at(at(path, key), i);
    if (!isObj(h)) return void r.issues.push(error(hp, 'must be an object'));
    if (h['envName'] !== undefined) r.issues.push(error(at(hp, 'envName'), 'envName is not supported: set value'));
    const name = r.str(h, 'name', hp, '');
    if (name === '') r.issues.push(error(at(hp, 'name'), 'header name must not be empty'));
    out.push({ name, value: r.str(h, 'value', hp, '') });
  });
  return out;
}

function readOpenTelemetry(r: Reader, o: Obj, path: string): OpenTelemetryTracingProvider {
  const target = readTracingTarget(r, o, path);
  const http = o['http'];
  const grpc = o['grpc'];
  if (http !== undefined && http !== null && grpc !== undefined && grpc !== null) r.issues.push(error(path, 'OpenTelemetryTracingProvider cannot specify both grpc and http'));
  if (http !== undefined && http !== null) {
    const hp = at(path, 'http');
    if (!isObj(http)) r.issues.push(error(hp, 'must be an object'));
    else {
      const timeoutMs = r.duration(http, 'timeout', hp);
      return { ...target, http: { path: r.str(http, 'path', hp, ''), headers: readTracingHeaders(r, http, 'headers', hp), ...(timeoutMs !== undefined ? { timeoutMs } : {}) } };
    }
  }
  if (grpc !== undefined && grpc !== null) {
    const gp = at(path, 'grpc');
    if (!isObj(grpc)) r.issues.push(error(gp, 'must be an object'));
    else {
      const timeoutMs = r.duration(grpc, 'timeout', gp);
      return { ...target, grpc: { initialMetadata: readTracingHeaders(r, grpc, 'initialMetadata', gp), ...(timeoutMs !== undefined ? { timeoutMs } : {}) } };
    }
  }
  return target;
}

function readZipkin(r: Reader, o: Obj, path: string): ZipkinTracingProvider {
  return { ...readTracingTarget(r, o, path), path: r.str(o, 'path', path, ''), enable64bitTraceId: r.bool(o, 'enable64bitTraceId', path, false) };
}

export function readProviders(r: Reader, v: unknown, path: string): ExtensionProvider[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    r.issues.push(error(path, 'must be a list'));
    return [];
  }
  const out: ExtensionProvider[] = [];
  const seen = new Set<string>();
  v.forEach((p: unknown, i) => {
    const pp = at(path, i);
    if (!isObj(p)) return void r.issues.push(error(pp, 'must be an object'));
    const name = r.str(p, 'name', pp, '');
    if (name === '') r.issues.push(error(at(pp, 'name'), `extension provider name must not be empty, found empty at index: ${i}`));
    else if (seen.has(name)) r.issues.push(error(at(pp, 'name'), `extension provider name must be unique, found duplicate: ${name}`));
    else {
      const bad = providerNameProblem(name);
      if (bad !== undefined) r.issues.push(error(at(pp, 'name'), `invalid provider name ${JSON.stringify(name)}: ${bad}`));
    }
    seen.add(name);
    const http = p['envoyExtAuthzHttp'];
    const grpc = p['envoyExtAuthzGrpc'];
    if (http !== undefined && grpc !== undefined) r.issues.push(error(pp, 'only one of envoyExtAuthzHttp or envoyExtAuthzGrpc may be set'));
    if (http !== undefined) {
      if (!isObj(http)) r.issues.push(error(at(pp, 'envoyExtAuthzHttp'), 'must be an object'));
      else out.push({ name, kind: 'envoyExtAuthzHttp', envoyExtAuthzHttp: readHttp(r, http, at(pp, 'envoyExtAuthzHttp')) });
    } else if (grpc !== undefined) {
      if (!isObj(grpc)) r.issues.push(error(at(pp, 'envoyExtAuthzGrpc'), 'must be an object'));
      else out.push({ name, kind: 'envoyExtAuthzGrpc', envoyExtAuthzGrpc: readCommon(r, grpc, at(pp, 'envoyExtAuthzGrpc')) });
    }
    const otel = p['opentelemetry'];
    const zipkin = p['zipkin'];
    if (otel !== undefined && otel !== null) {
      if (!isObj(otel)) r.issues.push(error(at(pp, 'opentelemetry'), 'must be an object'));
      else out.push({ name, kind: 'opentelemetry', opentelemetry: readOpenTelemetry(r, otel, at(pp, 'opentelemetry')) });
    } else if (zipkin !== undefined && zipkin !== null) {
      if (!isObj(zipkin)) r.issues.push(error(at(pp, 'zipkin'), 'must be an object'));
      else out.push({ name, kind: 'zipkin', zipkin: readZipkin(r, zipkin, at(pp, 'zipkin')) });
    }
    // Other provider kinds are accepted and ignored here (access-log kinds: readAccessLogProviders).
  });
  return out;
}

/** envoyFileAccessLog {path, logFormat {text | labels}, omitEmptyValues}; Istio validates nothing more. */
function readFileAccessLog(r: Reader, o: Obj, path: string): FileAccessLogProvider {
  const out = { path: r.str(o, 'path', path, ''), omitEmptyValues: r.bool(o, 'omitEmptyValues', path, false) };
  const f = o['logFormat'];
  if (f === undefined || f === null) return out;
  const fp = at(path, 'logFormat');
  if (!isObj(f)) {
    r.issues.push(error(fp, 'must be an object'));
    return out;
  }
  const text = f['text'];
  const labels = f['labels'];
  const hasText = text !== undefined && text !== null;
  const hasLabels = labels !== undefined && labels !== null;
  if (hasText && hasLabels) r.issues.push(error(fp, 'only one of text or labels may be set'));
  if (hasText) return { ...out, logFormat: { kind: 'text', text: r.str(f, 'text', fp, '') } };
  if (hasLabels) {
    if (!isObj(labels)) {
      r.issues.push(error(at(fp, 'labels'), 'must be a map of JSON keys to Envoy command operators'));
      return out;
    }
    return { ...out, logFormat: { kind: 'labels', labels: labels as JsonObject } };
  }
  return out;
}

/**
 * The access-log providers once the user's providers are applied over the defaults: a user's provider replaces a
 * default one of the same name whatever its kind (ApplyMeshConfig), so an `envoy` redefined as something else is no
 * longer the built-in file logger.
 */
export function readAccessLogProviders(r: Reader, v: unknown, defaults: readonly AccessLogProvider[]): readonly AccessLogProvider[] {
  const byName = new Map(defaults.map((p) => [p.name, p] as const));
  if (!Array.isArray(v)) return Object.freeze([...byName.values()]);
  v.forEach((p: unknown, i) => {
    if (!isObj(p) || typeof p['name'] !== 'string') return;
    const name = p['name'];
    byName.delete(name);
    const pp = at('extensionProviders', i);
    const file = p['envoyFileAccessLog'];
    if (file !== undefined && file !== null) {
      if (!isObj(file)) r.issues.push(error(at(pp, 'envoyFileAccessLog'), 'must be an object'));
      else byName.set(name, { name, kind: 'envoyFileAccessLog', envoyFileAccessLog: Object.freeze(readFileAccessLog(r, file, at(pp, 'envoyFileAccessLog'))) });
      return;
    }
    for (const kind of UNSUPPORTED_ACCESS_LOG_KINDS) {
      const c = p[kind];
      if (c === undefined || c === null) continue;
      if (!isObj(c)) r.issues.push(error(at(pp, kind), 'must be an object'));
      else byName.set(name, { name, kind });
      return;
    }
  });
  return Object.freeze([...byName.values()]);
}

/** defaultProviders: `metrics`, `tracing` and `accessLogging` are used; other lists are accepted and ignored. */
export function readDefaultProviders(r: Reader, v: unknown, fallback: DefaultProviders): DefaultProviders {
  if (v === undefined || v === null) return fallback;
  if (!isObj(v)) {
    r.issues.push(error('defaultProviders', 'must be an object'));
    return fallback;
  }
  const tracing = r.strings(v, 'tracing', 'defaultProviders');
  const accessLogging = r.strings(v, 'accessLogging', 'defaultProviders');
  return Object.freeze({
    metrics: Object.freeze(r.strings(v, 'metrics', 'defaultProviders')),
    ...(tracing.length > 0 ? { tracing: Object.freeze(tracing) } : {}),
    ...(accessLogging.length > 0 ? { accessLogging: Object.freeze(accessLogging) } : {}),
  });
}

/**
 * The names of the `prometheus` providers once the user's providers are applied over the defaults: a provider
 * with the name of a default one replaces it (ApplyMeshConfig), so `prometheus` redefined as something else is
 * no longer a metrics provider.
 */
export function prometheusProviderNames(r: Reader, v: unknown, defaults: readonly string[]): readonly string[] {
  const names = new Set(defaults);
  if (!Array.isArray(v)) return Object.freeze([...names]);
  v.forEach((p: unknown, i) => {
    if (!isObj(p) || typeof p['name'] !== 'string') return;
    const prom = p['prometheus'];
    if (prom === undefined || prom === null) {
      names.delete(p['name']);
      return;
    }
    if (!isObj(prom)) r.issues.push(error(at(at('extensionProviders', i), 'prometheus'), 'must be an object'));
    else names.add(p['name']);
  });
  return Object.freeze([...names]);
}
