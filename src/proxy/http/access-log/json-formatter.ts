// JSON access log formats (Envoy's `json_format`, JsonFormatterImpl in substitution_formatter.cc): a map of
// key to format string (nested maps, lists and plain JSON values allowed), compiled once. Per line:
//  - keys come out sorted at every level (Envoy sorts them when loading the config);
//  - a value that is exactly one operator keeps its type: numbers stay numbers (`"response_code":200`),
//    an unspecified value is `null`, metadata stays structured;
//  - any other template becomes a string with `-` for unspecified parts;
//  - strings without `%` and non-string JSON values are copied as they are;
//  - the line ends with `\n`.
// With omit_empty_values, keys whose single operator is unspecified are left out.

import { at, error, type Issue, type Result } from '../../../lib/issue.js';
import type { AccessLogEntry } from './access-log-entry.js';
import type { FormatOptions, Provider } from './commands.js';
import { compileParts, renderParts, UNSPECIFIED_VALUE, type AccessLogFormatter, type CompiledPart } from './text-formatter.js';

/** A json_format value: format strings, nested maps and lists, or plain JSON values. */
export type JsonFormatValue = string | number | boolean | null | readonly JsonFormatValue[] | JsonFormatSpec;
export interface JsonFormatSpec {
  readonly [key: string]: JsonFormatValue;
}

type JsonNode =
  | { readonly kind: 'raw'; readonly json: string }
  | { readonly kind: 'typed'; readonly provider: Provider }
  | { readonly kind: 'concat'; readonly parts: readonly CompiledPart[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, JsonNode])[] }
  | { readonly kind: 'array'; readonly items: readonly JsonNode[] };

function compileNode(value: JsonFormatValue, path: string, options: FormatOptions, issues: Issue[]): JsonNode {
  if (typeof value === 'string') {
    if (!value.includes('%')) return { kind: 'raw', json: JSON.stringify(value) };
    const r = compileParts(value, options, path);
    if (!r.ok) {
      issues.push(...r.issues);
      return { kind: 'raw', json: 'null' };
    }
    const parts = r.value;
    if (parts.length === 1 && typeof parts[0] === 'function') return { kind: 'typed', provider: parts[0] };
    if (parts.every((p) => typeof p === 'string')) return { kind: 'raw', json: JSON.stringify(parts.join('')) };
    return { kind: 'concat', parts };
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    return { kind: 'raw', json: JSON.stringify(value) ?? 'null' };
  }
  if (Array.isArray(value)) {
    const list = value as readonly JsonFormatValue[];
    return { kind: 'array', items: list.map((v, i) => compileNode(v, at(path, i), options, issues)) };
  }
  const spec = value as JsonFormatSpec;
  const keys = Object.keys(spec).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    kind: 'object',
    entries: keys.map((k) => [JSON.stringify(k), compileNode(spec[k] ?? null, at(path, k), options, issues)] as const),
  };
}

/** Renders a node; undefined means "leave this field out" (omit_empty_values). */
function render(node: JsonNode, entry: AccessLogEntry, omit: boolean, empty: string): string | undefined {
  switch (node.kind) {
    case 'raw':
      return node.json;
    case 'typed': {
      const v = node.provider(entry);
      if (v === undefined || v === null) return omit ? undefined : 'null';
      if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
      return JSON.stringify(v);
    }
    case 'concat':
      return JSON.stringify(renderParts(node.parts, entry, empty));
    case 'object': {
      let out = '{';
      let first = true;
      for (const [key, child] of node.entries) {
        const v = render(child, entry, omit, empty);
        if (v === undefined) continue;
        out += first ? `${key}:${v}` : `,${key}:${v}`;
        first = false;
      }
      return `${out}}`;
    }
    case 'array': {
      let out = '[';
      let first = true;
      for (const child of node.items) {
        const v = render(child, entry, omit, empty);
        if (v === undefined) continue;
        out += first ? v : `,${v}`;
        first = false;
      }
      return `${out}]`;
    }
  }
}

/** Compiles an Envoy json_format (e.g. ISTIO_JSON_FORMAT) into a line formatter. */
export function compileJsonFormat(spec: JsonFormatSpec, options: FormatOptions = {}): Result<AccessLogFormatter> {
  const issues: Issue[] = [];
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    return { ok: false, issues: [error('json_format', 'json_format must be a map of keys to format strings')] };
  }
  const root = compileNode(spec, 'json_format', options, issues);
  if (issues.length > 0) return { ok: false, issues };
  const omit = options.omitEmptyValues === true;
  const empty = omit ? '' : UNSPECIFIED_VALUE;
  return { ok: true, value: (entry) => `${render(root, entry, omit, empty) ?? '{}'}\n`, warnings: [] };
}
