// Reading protobuf JSON without the schema: config dumps come from Envoy (proto field names, snake_case)
// or from other printers that use the lowerCamelCase JSON names, and protobuf's JSON parsers accept both
// (https://protobuf.dev/programming-guides/json/), so every field is looked up under both spellings.
// Map keys (filter_metadata's `istio`) and Struct fields (`config`) are never renamed; read them with
// `entry`. Nothing here throws: a missing or mistyped field reads as empty.

export interface JsonObject {
  readonly [key: string]: unknown;
}

export function asObject(v: unknown): JsonObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

function camel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The value of proto field `snake` (given in snake_case), under either JSON spelling. */
export function field(o: JsonObject | undefined, snake: string): unknown {
  if (o === undefined) return undefined;
  const v = o[snake];
  return v !== undefined ? v : o[camel(snake)];
}

/** A map entry or Struct field, whose key is never renamed. */
export function entry(o: JsonObject | undefined, key: string): unknown {
  return o?.[key];
}

export function obj(o: JsonObject | undefined, snake: string): JsonObject | undefined {
  return asObject(field(o, snake));
}

export function str(o: JsonObject | undefined, snake: string): string {
  const v = field(o, snake);
  return typeof v === 'string' ? v : '';
}

/** Numbers: JSON numbers, or strings (64-bit integers are strings in protobuf JSON); 0 when absent. */
export function num(o: JsonObject | undefined, snake: string): number {
  const v = field(o, snake);
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return 0;
}

export function bool(o: JsonObject | undefined, snake: string): boolean {
  return field(o, snake) === true;
}

export function list(o: JsonObject | undefined, snake: string): JsonObject[] {
  const v = field(o, snake);
  return Array.isArray(v) ? v.map(asObject).filter((x): x is JsonObject => x !== undefined) : [];
}

export function strings(o: JsonObject | undefined, snake: string): string[] {
  const v = field(o, snake);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** A copy of a packed Any's message without its `@type`, as a typed message prints. */
export function withoutType(o: JsonObject): JsonObject {
  const { '@type': _type, ...rest } = o;
  return rest;
}

/** Envoy's core.v3.Address, as istioctl prints it: the socket address, a pipe path or an internal address. */
export interface AddressParts {
  readonly address: string;
  readonly port: number;
  readonly kind: 'socket' | 'pipe' | 'internal' | 'none';
}

export function addressParts(a: JsonObject | undefined): AddressParts {
  const socket = obj(a, 'socket_address');
  if (socket !== undefined) return { address: str(socket, 'address'), port: num(socket, 'port_value'), kind: 'socket' };
  const pipe = obj(a, 'pipe');
  if (pipe !== undefined) return { address: str(pipe, 'path'), port: 0, kind: 'pipe' };
  const internal = obj(a, 'envoy_internal_address');
  if (internal !== undefined) {
    const listener = str(internal, 'server_listener_name');
    return { address: listener !== '' ? `envoy://${listener}/${str(internal, 'endpoint_id')}` : 'unknown', port: 0, kind: 'internal' };
  }
  return { address: '', port: 0, kind: 'none' };
}

/** Stable sort on a copy (Array.prototype.sort is stable). */
export function sorted<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  return [...items].sort(cmp);
}

export function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
