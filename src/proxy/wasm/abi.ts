// The proxy-wasm ABI's wire constants (status codes, enums shared by host and guest) and the detection
// of the ABI version a module advertises. Values follow the proxy-wasm spec v0.2.1 ("Types" section);
// the extra WasmResult members (5, 9, 11) are the ones SDKs and cpp-host define beyond the spec.
// This file owns numbers only: no behaviour, no imports.

/** proxy_status_t. SDKs panic on statuses a function does not list, so hostcalls return exactly these. */
export enum WasmResult {
  OK = 0,
  NOT_FOUND = 1,
  BAD_ARGUMENT = 2,
  SERIALIZATION_FAILURE = 3,
  PARSE_FAILURE = 4,
  BAD_EXPRESSION = 5,
  INVALID_MEMORY_ACCESS = 6,
  EMPTY = 7,
  CAS_MISMATCH = 8,
  RESULT_MISMATCH = 9,
  INTERNAL_FAILURE = 10,
  BROKEN_CONNECTION = 11,
  UNIMPLEMENTED = 12,
}

/** proxy_log_level_t. */
export enum LogLevel {
  TRACE = 0,
  DEBUG = 1,
  INFO = 2,
  WARN = 3,
  ERROR = 4,
  CRITICAL = 5,
}

/** proxy_buffer_type_t. Types 6-8 exist from ABI 0.2.0 on. */
export enum BufferType {
  HTTP_REQUEST_BODY = 0,
  HTTP_RESPONSE_BODY = 1,
  DOWNSTREAM_DATA = 2,
  UPSTREAM_DATA = 3,
  HTTP_CALL_RESPONSE_BODY = 4,
  GRPC_CALL_MESSAGE = 5,
  VM_CONFIGURATION = 6,
  PLUGIN_CONFIGURATION = 7,
  FOREIGN_FUNCTION_ARGUMENTS = 8,
}
export const MAX_BUFFER_TYPE = BufferType.FOREIGN_FUNCTION_ARGUMENTS;

/** proxy_map_type_t. */
export enum MapType {
  HTTP_REQUEST_HEADERS = 0,
  HTTP_REQUEST_TRAILERS = 1,
  HTTP_RESPONSE_HEADERS = 2,
  HTTP_RESPONSE_TRAILERS = 3,
  GRPC_CALL_INITIAL_METADATA = 4,
  GRPC_CALL_TRAILING_METADATA = 5,
  HTTP_CALL_RESPONSE_HEADERS = 6,
  HTTP_CALL_RESPONSE_TRAILERS = 7,
}
export const MAX_MAP_TYPE = MapType.HTTP_CALL_RESPONSE_TRAILERS;

/** proxy_stream_type_t (ABI 0.2.x continue_stream / close_stream). */
export enum StreamType {
  HTTP_REQUEST = 0,
  HTTP_RESPONSE = 1,
  DOWNSTREAM = 2,
  UPSTREAM = 3,
}

/** proxy_metric_type_t. */
export enum MetricType {
  COUNTER = 0,
  GAUGE = 1,
  HISTOGRAM = 2,
}

/** proxy_peer_type_t, passed to the connection-close callbacks. */
export enum PeerType {
  UNKNOWN = 0,
  LOCAL = 1,
  REMOTE = 2,
}

/** proxy_action_t as the spec defines it; Envoy-era SDKs return richer Envoy enums (any non-zero = pause). */
export enum Action {
  CONTINUE = 0,
  PAUSE = 1,
}

/** The WASI preview1 errno values the host returns. */
export enum WasiErrno {
  SUCCESS = 0,
  BADF = 8,
  FAULT = 21,
  INVAL = 28,
  NOSYS = 52,
  NOTSUP = 58,
  /** What cpp-host answers for WASI calls a plugin is not allowed to make. */
  NOTCAPABLE = 76,
}

export type AbiVersion = '0.1.0' | '0.2.0' | '0.2.1';

/** Export names that advertise an ABI version, newest first (a module exporting several gets the newest). */
const ABI_MARKERS: ReadonlyArray<readonly [string, AbiVersion]> = [
  ['proxy_abi_version_0_2_1', '0.2.1'],
  ['proxy_abi_version_0_2_0', '0.2.0'],
  ['proxy_abi_version_0_1_0', '0.1.0'],
];

export const UNKNOWN_ABI_MESSAGE = 'Missing or unknown Proxy-Wasm ABI version';

/**
 * The ABI version a module advertises through its `proxy_abi_version_*` export, or undefined when it
 * advertises none we know (cpp-host refuses such modules with UNKNOWN_ABI_MESSAGE; so do we).
 */
export function detectAbiVersion(exportNames: Iterable<string>): AbiVersion | undefined {
  const names = new Set(exportNames);
  for (const [marker, version] of ABI_MARKERS) if (names.has(marker)) return version;
  return undefined;
}

/** True for ABI 0.2.0 and later (continue_stream/close_stream, 3-param header callbacks, NOT_FOUND for missing headers). */
export function isAbi02(version: AbiVersion): boolean {
  return version !== '0.1.0';
}

/** Limits on serialized header maps, as cpp-host's include/proxy-wasm/limits.h. */
export const PAIRS_MAX_BYTES = 1024 * 1024;
export const PAIRS_MAX_COUNT = 1024;
/** cpp-host caps one random_get at 64 KiB. */
export const RANDOM_GET_MAX_BYTES = 64 * 1024;
/** Default cap on a VM's linear memory: 1 GiB = 16384 pages of 64 KiB (cpp-host's limit). */
export const DEFAULT_MAX_MEMORY_PAGES = 16384;
