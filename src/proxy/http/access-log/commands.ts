// The access log command operators (Envoy's built-in formatters: stream_info_formatter.cc,
// http_specific_formatter.cc; list in docs/root/configuration/observability/access_log/usage.rst), each
// compiled once from `%COMMAND(ARG):LENGTH%` into a provider: a function from an AccessLogEntry to a value.
// A provider returns undefined for Envoy's "unspecified" (printed `-`), a number for numeric operators (kept a
// number in JSON logs), or a string / JSON-like value.
// Syntax checks follow Envoy's CommandSyntaxChecker and its messages: operators that take nothing reject
// `(ARG)` and `:LENGTH`; only header, metadata, filter state and environment operators accept `:LENGTH`,
// which truncates the value. Unknown operators are "Not supported field in StreamInfo: X".
// Not supported: operators needing data this proxy does not keep (TLS cert fingerprints, CEL, UNIQUE_ID, ...).

import { hostname as osHostname } from 'node:os';
import type { Clock } from '../../../lib/clock.js';
import { grpcStatusForHttp } from '../local-reply.js';
import { responseFlagsToLongString, responseFlagsToString } from '../response-flags.js';
import type { AccessLogEntry, AccessLogHeaders, Metadata, MetadataValue } from './access-log-entry.js';
import { compileTimeFormat } from './time-format.js';

export type ProvidedValue = MetadataValue | undefined;
export type Provider = (entry: AccessLogEntry) => ProvidedValue;

export interface FormatOptions {
  /** %HOSTNAME%; the machine's hostname when omitted. */
  readonly hostname?: string;
  /** Values for %ENVIRONMENT(NAME)% (read by bin/, never process.env here); a missing name prints `-`. */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** Clock for %EMIT_TIME%; without one EMIT_TIME is not available. */
  readonly clock?: Clock;
  /** Envoy's `omit_empty_values`: print '' instead of `-` (text), drop null fields (JSON). */
  readonly omitEmptyValues?: boolean;
}

export type CompiledCommand = { readonly ok: true; readonly provider: Provider } | { readonly ok: false; readonly problem: string };

type Syntax = 'none' | 'optional' | 'required';

interface CommandDef {
  readonly syntax: Syntax;
  readonly lengthAllowed?: boolean;
  readonly create: (arg: string, maxLength: number | undefined, options: FormatOptions) => Provider | string;
}

/** Envoy's truncate(): at most maxLength characters. */
export function truncate(value: string, maxLength: number | undefined): string {
  return maxLength !== undefined && value.length > maxLength ? value.slice(0, maxLength) : value;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

function withoutPort(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined;
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    return end > 0 ? address.slice(1, end) : address;
  }
  const colon = address.indexOf(':');
  return colon >= 0 && colon === address.lastIndexOf(':') ? address.slice(0, colon) : address;
}

function justPort(address: string | undefined): number | undefined {
  if (address === undefined) return undefined;
  const colon = address.lastIndexOf(':');
  if (colon < 0 || (!address.startsWith('[') && colon !== address.indexOf(':'))) return undefined;
  const port = Number(address.slice(colon + 1));
  return Number.isInteger(port) ? port : undefined;
}

const ms = (v: number | undefined): number | undefined => (v === undefined || !Number.isFinite(v) ? undefined : Math.floor(v));

/** Parses `MAIN?ALT` header operator arguments (SubstitutionFormatUtils::parseSubcommandHeaders). */
function headerArgs(arg: string): [string, string] | string {
  const parts = arg.split('?');
  if (parts.length > 2) return `More than 1 alternative header specified in token: ${arg}`;
  if (/[\r\n\u0000]/.test(arg)) return 'Invalid header configuration. Format string contains null or newline.';
  return [(parts[0] ?? '').toLowerCase(), (parts[1] ?? '').toLowerCase()];
}

function header(pick: (e: AccessLogEntry) => AccessLogHeaders | undefined, stripQuery: boolean): CommandDef {
  return {
    syntax: 'required',
    lengthAllowed: true,
    create(arg, maxLength) {
      const names = headerArgs(arg);
      if (typeof names === 'string') return names;
      const [main, alt] = names;
      return (e) => {
        const headers = pick(e);
        if (headers === undefined) return undefined;
        let v = headers.get(main);
        if (v === undefined && alt !== '') v = headers.get(alt);
        if (v === undefined) return undefined;
        if (stripQuery) {
          const q = v.indexOf('?');
          if (q >= 0) v = v.slice(0, q);
        }
        return truncate(v, maxLength);
      };
    },
  };
}

function stringField(f: (e: AccessLogEntry) => string | undefined): CommandDef {
  return { syntax: 'none', create: () => (e) => nonEmpty(f(e)) };
}

function numberField(f: (e: AccessLogEntry) => number | undefined): CommandDef {
  return { syntax: 'none', create: () => f };
}

function time(local: boolean, pick: (e: AccessLogEntry, options: FormatOptions) => number | undefined): CommandDef {
  return {
    syntax: 'optional',
    create(arg, _len, options) {
      const r = compileTimeFormat(arg, local);
      if (!r.ok) return r.problem;
      const fmt = r.value;
      return (e) => {
        const t = pick(e, options);
        return t === undefined || !Number.isFinite(t) ? undefined : fmt(t);
      };
    },
  };
}

function addressOps(
  prefix: string,
  f: (e: AccessLogEntry) => string | undefined,
  portName = `${prefix}_PORT`,
): [string, CommandDef][] {
  return [
    [`${prefix}_ADDRESS`, stringField(f)],
    [`${prefix}_ADDRESS_WITHOUT_PORT`, stringField((e) => withoutPort(f(e)))],
    [portName, numberField((e) => justPort(f(e)))],
  ];
}

function lookupPath(root: MetadataValue | undefined, path: readonly string[]): MetadataValue | undefined {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as { readonly [k: string]: MetadataValue })[key];
  }
  return v;
}

function textOf(v: MetadataValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function metadata(pick: (e: AccessLogEntry) => Metadata | undefined): CommandDef {
  return {
    syntax: 'required',
    lengthAllowed: true,
    create(arg, maxLength) {
      const [ns = '', ...path] = arg.split(':');
      return (e) => {
        const md = pick(e);
        const v = lookupPath(md?.[ns], path);
        if (v === undefined || v === null) return undefined;
        return maxLength === undefined ? v : truncate(textOf(v), maxLength);
      };
    },
  };
}

const GRPC_CAMEL = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists',
  'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented',
  'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];
const GRPC_SNAKE = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
  'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];

/** grpc-status from trailers, then headers, then mapped from the HTTP status; only for gRPC requests. */
function grpcStatus(e: AccessLogEntry): number | undefined {
  const ct = e.requestHeaders?.get('content-type');
  if (ct === undefined || !ct.startsWith('application/grpc')) return undefined;
  const raw = e.responseTrailers?.get('grpc-status') ?? e.responseHeaders?.get('grpc-status');
  if (raw !== undefined) {
    const n = Number(raw);
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  }
  return e.responseCode === undefined || e.responseCode === 0 ? undefined : grpcStatusForHttp(e.responseCode);
}

const grpc: CommandDef = {
  syntax: 'optional',
  create(arg) {
    const mode = arg === '' ? 'CAMEL_STRING' : arg;
    if (mode !== 'CAMEL_STRING' && mode !== 'SNAKE_STRING' && mode !== 'NUMBER') {
      return `GRPC_STATUS only supports CAMEL_STRING, SNAKE_STRING or NUMBER, given: ${arg}`;
    }
    const names = mode === 'SNAKE_STRING' ? GRPC_SNAKE : GRPC_CAMEL;
    return (e) => {
      const s = grpcStatus(e);
      if (s === undefined) return undefined;
      if (mode === 'NUMBER') return s;
      return names[s] ?? String(s);
    };
  },
};

const joinSans = (sans: readonly string[] | undefined): string | undefined =>
  sans === undefined || sans.length === 0 ? undefined : sans.join(',');

const WHITESPACE = /[ \t\f\v\n\r]/g;

const COMMANDS: ReadonlyMap<string, CommandDef> = new Map<string, CommandDef>([
  ['REQ', header((e) => e.requestHeaders, false)],
  ['REQUEST_HEADER', header((e) => e.requestHeaders, false)],
  ['RESP', header((e) => e.responseHeaders, false)],
  ['RESPONSE_HEADER', header((e) => e.responseHeaders, false)],
  ['TRAILER', header((e) => e.responseTrailers, false)],
  ['RESPONSE_TRAILER', header((e) => e.responseTrailers, false)],
  // Istio's envoy.formatter.req_without_query extension.
  ['REQ_WITHOUT_QUERY', header((e) => e.requestHeaders, true)],
  ['START_TIME', time(false, (e) => e.startTime)],
  ['START_TIME_LOCAL', time(true, (e) => e.startTime)],
  ['EMIT_TIME', time(false, (_e, o) => o.clock?.now())],
  ['EMIT_TIME_LOCAL', time(true, (_e, o) => o.clock?.now())],
  ['PROTOCOL', stringField((e) => e.protocol)],
  ['UPSTREAM_PROTOCOL', stringField((e) => e.upstreamProtocol)],
  ['RESPONSE_CODE', numberField((e) => e.responseCode ?? 0)],
  [
    'RESPONSE_CODE_DETAILS',
    {
      syntax: 'optional',
      create: (arg) => {
        if (arg === 'ALLOW_WHITESPACES') return (e) => e.responseCodeDetails;
        // Details are a few constant strings (via_upstream, ...): the last one's replacement is kept, so the
        // regular expression runs once per different value rather than on every line.
        let lastIn = '';
        let lastOut = '';
        return (e) => {
          const d = e.responseCodeDetails;
          if (d === undefined) return undefined;
          if (d !== lastIn) {
            lastIn = d;
            lastOut = d.replace(WHITESPACE, '_');
          }
          return lastOut;
        };
      },
    },
  ],
  ['CONNECTION_TERMINATION_DETAILS', stringField((e) => e.connectionTerminationDetails)],
  ['RESPONSE_FLAGS', { syntax: 'none', create: () => (e) => responseFlagsToString(e.responseFlags) }],
  ['RESPONSE_FLAGS_LONG', { syntax: 'none', create: () => (e) => responseFlagsToLongString(e.responseFlags) }],
  ['BYTES_RECEIVED', numberField((e) => e.bytesReceived)],
  ['BYTES_SENT', numberField((e) => e.bytesSent)],
  ['DURATION', numberField((e) => ms(e.durationMs))],
  ['REQUEST_DURATION', numberField((e) => ms(e.requestDurationMs))],
  ['RESPONSE_DURATION', numberField((e) => ms(e.responseDurationMs))],
  ['RESPONSE_TX_DURATION', numberField((e) => ms(e.responseTxDurationMs))],
  ['UPSTREAM_HOST', stringField((e) => e.upstreamHost)],
  ['UPSTREAM_HOST_NAME', stringField((e) => nonEmpty(e.upstreamHostName) ?? e.upstreamHost)],
  ['UPSTREAM_HOST_NAME_WITHOUT_PORT', stringField((e) => withoutPort(nonEmpty(e.upstreamHostName) ?? e.upstreamHost))],
  ['UPSTREAM_CLUSTER', stringField((e) => nonEmpty(e.upstreamClusterObservabilityName) ?? e.upstreamCluster)],
  ['UPSTREAM_CLUSTER_RAW', stringField((e) => e.upstreamCluster)],
  ...addressOps('UPSTREAM_LOCAL', (e) => e.upstreamLocalAddress),
  ...addressOps('UPSTREAM_REMOTE', (e) => nonEmpty(e.upstreamRemoteAddress) ?? e.upstreamHost),
  ...addressOps('DOWNSTREAM_LOCAL', (e) => e.downstreamLocalAddress),
  ...addressOps('DOWNSTREAM_DIRECT_LOCAL', (e) => nonEmpty(e.downstreamDirectLocalAddress) ?? e.downstreamLocalAddress),
  ...addressOps('DOWNSTREAM_REMOTE', (e) => e.downstreamRemoteAddress),
  ...addressOps('DOWNSTREAM_DIRECT_REMOTE', (e) => nonEmpty(e.downstreamDirectRemoteAddress) ?? e.downstreamRemoteAddress),
  ['UPSTREAM_REQUEST_ATTEMPT_COUNT', numberField((e) => e.upstreamRequestAttemptCount ?? 0)],
  ['UPSTREAM_TRANSPORT_FAILURE_REASON', stringField((e) => e.upstreamTransportFailureReason?.replace(/ /g, '_'))],
  ['DOWNSTREAM_TRANSPORT_FAILURE_REASON', stringField((e) => e.downstreamTransportFailureReason?.replace(/ /g, '_'))],
  ['CONNECTION_ID', numberField((e) => e.connectionId ?? 0)],
  ['UPSTREAM_CONNECTION_ID', numberField((e) => e.upstreamConnectionId ?? 0)],
  ['STREAM_ID', stringField((e) => e.streamId)],
  ['REQUESTED_SERVER_NAME', stringField((e) => e.requestedServerName)],
  ['ROUTE_NAME', stringField((e) => e.routeName)],
  ['VIRTUAL_CLUSTER_NAME', stringField((e) => e.virtualClusterName)],
  ['FILTER_CHAIN_NAME', stringField((e) => e.filterChainName)],
  ['LOCAL_REPLY_BODY', { syntax: 'none', create: () => (e) => e.localReplyBody ?? '' }],
  ['DOWNSTREAM_TLS_VERSION', stringField((e) => e.downstreamTlsVersion)],
  ['DOWNSTREAM_TLS_CIPHER', stringField((e) => e.downstreamTlsCipher)],
  ['DOWNSTREAM_PEER_URI_SAN', stringField((e) => joinSans(e.downstreamPeerUriSans))],
  ['DOWNSTREAM_LOCAL_URI_SAN', stringField((e) => joinSans(e.downstreamLocalUriSans))],
  ['DOWNSTREAM_PEER_SUBJECT', stringField((e) => e.downstreamPeerSubject)],
  ['UPSTREAM_TLS_VERSION', stringField((e) => e.upstreamTlsVersion)],
  ['UPSTREAM_PEER_URI_SAN', stringField((e) => joinSans(e.upstreamPeerUriSans))],
  [
    'HOSTNAME',
    {
      syntax: 'none',
      create: (_a, _l, o) => {
        const name = o.hostname ?? osHostname();
        return () => name;
      },
    },
  ],
  ['GRPC_STATUS', grpc],
  ['GRPC_STATUS_NUMBER', { syntax: 'none', create: () => grpcStatus }],
  ['DYNAMIC_METADATA', metadata((e) => e.dynamicMetadata)],
  ['CLUSTER_METADATA', metadata((e) => e.clusterMetadata)],
  ['UPSTREAM_METADATA', metadata((e) => e.upstreamHostMetadata)],
  [
    'FILTER_STATE',
    {
      syntax: 'optional',
      lengthAllowed: true,
      create(arg, maxLength) {
        const [key = '', mode = 'TYPED'] = arg.split(':');
        if (key === '') return 'Invalid filter state configuration, key cannot be empty.';
        if (mode !== 'PLAIN' && mode !== 'TYPED') return 'Invalid filter state serialize type, only support PLAIN/TYPED.';
        return (e) => {
          const v = e.filterState?.[key];
          if (v === undefined || v === null) return undefined;
          if (mode === 'TYPED' && maxLength === undefined) return v;
          return truncate(textOf(v), maxLength);
        };
      },
    },
  ],
  [
    'ENVIRONMENT',
    {
      syntax: 'required',
      lengthAllowed: true,
      create(arg, maxLength, o) {
        const v = o.environment?.[arg];
        const text = v === undefined ? '-' : truncate(v, maxLength);
        return () => text;
      },
    },
  ],
]);

/** Compiles one operator, checking its syntax as Envoy's CommandSyntaxChecker does. */
export function compileCommand(
  command: string,
  arg: string,
  maxLength: number | undefined,
  options: FormatOptions,
): CompiledCommand {
  const def = COMMANDS.get(command);
  if (def === undefined || (command.startsWith('EMIT_TIME') && options.clock === undefined)) {
    return { ok: false, problem: `Not supported field in StreamInfo: ${command}` };
  }
  if (def.syntax === 'none' && (arg !== '' || maxLength !== undefined)) {
    return { ok: false, problem: `${command} does not take any parameters or length` };
  }
  if (def.syntax === 'required' && arg === '') return { ok: false, problem: `${command} requires parameters` };
  if (def.lengthAllowed !== true && maxLength !== undefined) {
    return { ok: false, problem: `${command} does not allow length to be specified.` };
  }
  const p = def.create(arg, maxLength, options);
  return typeof p === 'string' ? { ok: false, problem: p } : { ok: true, provider: p };
}

/** The text form of a provided value; undefined (and null) is Envoy's unspecified value. */
export function valueToText(v: ProvidedValue): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
