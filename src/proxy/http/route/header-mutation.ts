// request/response_headers_to_add and _to_remove, compiled per level (route configuration, virtual host,
// route, weighted cluster) and applied as Envoy's HeaderParser::evaluateHeaders does for each level:
// removals first; then every value is formatted and every append_action decided against the headers as
// they were before this level's additions; then overwrites are set; then additions appended.
// append_action: APPEND_IF_EXISTS_OR_ADD (default; a further value of the header), ADD_IF_ABSENT,
// OVERWRITE_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS; the legacy `append` bool maps to the first (true) or
// the third (false) and may not be combined with a non-default append_action. Empty values are skipped
// unless keep_empty_value. Pseudo-headers and host may be neither set nor removed.
// Envoy: source/common/router/header_parser.cc; docs configuration/http/http_conn_man/headers.

import { HeaderValueOption_HeaderAppendAction as Action, type HeaderValueOption } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import { asciiLower } from './ascii.js';
import { checkHeaderValueBounds, checkHeaderValueField } from './field-rules.js';
import { compileFormat, type CompiledFormat } from './header-format.js';
import type { HeaderFormatContext, HeaderMap } from './types.js';

interface AddEntry {
  readonly name: string;
  readonly format: CompiledFormat;
  readonly overwrite: boolean;
  /** ADD_IF_ABSENT / OVERWRITE_IF_EXISTS: only when the header is absent / present. */
  readonly when: 'always' | 'absent' | 'present';
  readonly keepEmpty: boolean;
}

/** One level's mutations (one Envoy HeaderParser). */
export interface HeaderMutationLevel {
  readonly removes: readonly string[];
  readonly adds: readonly AddEntry[];
}

/** Levels in the order they are applied. */
export type HeaderMutationPlan = readonly HeaderMutationLevel[];

function modifiable(name: string): boolean {
  return name !== '' && name[0] !== ':' && name !== 'host';
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/**
 * Compiles one level; undefined when it has nothing to do. `addsPath` and `removesPath` are the field
 * paths of the two lists, for problems.
 */
export function compileHeaderMutationLevel(
  adds: readonly HeaderValueOption[],
  removes: readonly string[],
  addsPath: string,
  removesPath: string,
  problems: string[],
): HeaderMutationLevel | undefined {
  const entries: AddEntry[] = [];
  adds.forEach((o, i) => {
    const path = `${addsPath}[${i}]`;
    const h = o.header;
    if (h === undefined) {
      problems.push(`${path}.header: must be set`);
      return;
    }
    const keyOk = checkHeaderValueField(h.key, `${path}.header.key`, problems);
    const valueOk = checkHeaderValueField(h.value, `${path}.header.value`, problems);
    if (!checkHeaderValueBounds(h.key, h.value, `${path}.header`, problems) || !keyOk || !valueOk) return;
    const name = asciiLower(h.key);
    if (!modifiable(name)) {
      problems.push(`${path}.header.key: ${JSON.stringify(h.key)}: :-prefixed or host headers may not be modified`);
      return;
    }
    let action = o.appendAction;
    if (o.append !== undefined) {
      if (action !== Action.APPEND_IF_EXISTS_OR_ADD) {
        problems.push(`${path}: both append and append_action are set and it's not allowed`);
        return;
      }
      action = o.append ? Action.APPEND_IF_EXISTS_OR_ADD : Action.OVERWRITE_IF_EXISTS_OR_ADD;
    }
    const raw = h.value === '' && h.rawValue.length > 0 ? latin1(h.rawValue) : h.value;
    const format = compileFormat(raw);
    if (typeof format === 'string') {
      problems.push(`${path}.header.value: ${format}`);
      return;
    }
    entries.push(
      Object.freeze({
        name,
        format,
        overwrite: action === Action.OVERWRITE_IF_EXISTS_OR_ADD || action === Action.OVERWRITE_IF_EXISTS,
        when: action === Action.ADD_IF_ABSENT ? 'absent' : action === Action.OVERWRITE_IF_EXISTS ? 'present' : 'always',
        keepEmpty: o.keepEmptyValue,
      } as const),
    );
  });
  const removals: string[] = [];
  removes.forEach((r, i) => {
    const name = asciiLower(r);
    if (!modifiable(name)) problems.push(`${removesPath}[${i}]: ${JSON.stringify(r)}: :-prefixed or host headers may not be removed`);
    else removals.push(name);
  });
  if (entries.length === 0 && removals.length === 0) return undefined;
  return Object.freeze({ removes: Object.freeze(removals), adds: Object.freeze(entries) });
}

function append(headers: HeaderMap, name: string, value: string): void {
  const cur = headers[name];
  headers[name] = cur === undefined ? value : typeof cur === 'string' ? [cur, value] : [...cur, value];
}

/** Values formatted in phase one of a level; reused (application is synchronous). */
const pending: (string | undefined)[] = [];

/**
 * Applies a plan to `headers`. `requestHeaders` is what %REQ(x)% reads: the same map for request
 * mutations, the request's headers for response mutations.
 */
export function applyHeaderMutations(plan: HeaderMutationPlan, headers: HeaderMap, ctx: HeaderFormatContext, requestHeaders: HeaderMap | undefined): void {
  for (const level of plan) {
    for (const name of level.removes) delete headers[name];
    const adds = level.adds;
    for (let i = 0; i < adds.length; i++) {
      const e = adds[i] as AddEntry;
      const value = e.format.constant ?? e.format.format(ctx, requestHeaders);
      const present = headers[e.name] !== undefined;
      const skip = (value === '' && !e.keepEmpty) || (e.when === 'absent' && present) || (e.when === 'present' && !present);
      pending[i] = skip ? undefined : value;
    }
    for (let i = 0; i < adds.length; i++) {
      const e = adds[i] as AddEntry;
      const v = pending[i];
      if (v !== undefined && e.overwrite) headers[e.name] = v;
    }
    for (let i = 0; i < adds.length; i++) {
      const e = adds[i] as AddEntry;
      const v = pending[i];
      if (v !== undefined && !e.overwrite) append(headers, e.name, v);
      pending[i] = undefined;
    }
  }
}
