// Schema building blocks shared by every kind, and the one place that turns zod's findings into Issues.
// Kinds describe their fields with these helpers; objects are strict so an unknown field is reported
// (`unknown field "hostss"`) rather than silently dropped, as `kubectl --validate=strict` and
// `istioctl validate` do. Protobuf oneofs are modelled as optional fields plus `onlyOneOf()` checks in the
// kind's validator, never as zod unions, so that every member gets a precise message.

import { z } from 'zod';
import { at, error, type Issue } from '../lib/issue.js';

export { z };

/** A strict object: fields not in `shape` are reported as unknown. */
export function obj<S extends z.ZodRawShape>(shape: S): z.ZodObject<S, z.core.$strict> {
  return z.strictObject(shape);
}

/** Protobuf `map<string,string>` (labels, headers). */
export const stringMap = z.record(z.string(), z.string());

/** Protobuf uint32 (ports, weights...). */
export const uint32 = z.number().int().min(0).max(4294967295);

/** Protobuf int32. */
export const int32 = z.number().int().min(-2147483648).max(2147483647);

/** google.protobuf.Struct / Value: any JSON value. */
export const jsonValue: z.ZodType<unknown> = z.unknown();

/** An enum given by name, as Istio's YAML does. */
export function enumOf<const T extends readonly [string, ...string[]]>(values: T): z.ZodEnum<{ [K in T[number]]: K }> {
  return z.enum(values);
}

/** google.protobuf.Duration written as Istio's YAML accepts it: a Go duration string such as `1.5s`, `100ms`, `1h2m`. */
export const durationString = z.string();

function describe(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'an object';
  if (typeof input === 'string') return `string ${JSON.stringify(input)}`;
  return `${typeof input} ${String(input)}`;
}

function article(expected: string): string {
  switch (expected) {
    case 'object':
      return 'an object';
    case 'array':
      return 'a list';
    case 'int':
      return 'an integer';
    default:
      return `a ${expected}`;
  }
}

function pathOf(base: string, segs: readonly PropertyKey[]): string {
  let p = base;
  for (const s of segs) p = at(p, typeof s === 'number' ? s : String(s));
  return p;
}

/** Maps zod issues to Isthmus issues under `base` (e.g. `spec`). */
export function zodIssuesToIssues(base: string, issues: readonly z.core.$ZodIssue[]): Issue[] {
  const out: Issue[] = [];
  for (const iss of issues) {
    const path = pathOf(base, iss.path);
    switch (iss.code) {
      case 'unrecognized_keys':
        for (const k of iss.keys) out.push(error(at(path, k), `unknown field "${k}"`));
        break;
      case 'invalid_type':
        if (iss.input === undefined) out.push(error(path, 'required field is missing'));
        else out.push(error(path, `must be ${article(iss.expected)}, got ${describe(iss.input)}`));
        break;
      case 'invalid_value':
        out.push(
          error(path, `invalid value ${JSON.stringify(iss.input) ?? 'nothing'}; must be one of ${iss.values.map((v) => String(v)).join(', ')}`),
        );
        break;
      case 'too_small':
        out.push(error(path, iss.origin === 'array' || iss.origin === 'string' ? `must have at least ${String(iss.minimum)} ${iss.origin === 'array' ? 'entries' : 'characters'}` : `must be ${iss.inclusive === false ? '>' : '>='} ${String(iss.minimum)}, got ${describe(iss.input)}`));
        break;
      case 'too_big':
        out.push(error(path, iss.origin === 'array' || iss.origin === 'string' ? `must have at most ${String(iss.maximum)} ${iss.origin === 'array' ? 'entries' : 'characters'}` : `must be ${iss.inclusive === false ? '<' : '<='} ${String(iss.maximum)}, got ${describe(iss.input)}`));
        break;
      case 'invalid_union': {
        // Only reached when a kind uses a union deliberately (e.g. int-or-string); say what was accepted.
        out.push(error(path, `invalid value ${describe(iss.input)}: ${iss.message}`));
        break;
      }
      case 'invalid_key':
        out.push(error(path, `invalid key: ${iss.message}`));
        break;
      default:
        out.push(error(path, iss.message));
    }
  }
  return out;
}

function deleteAt(root: unknown, segs: readonly PropertyKey[]): boolean {
  if (segs.length === 0) return false;
  let cur: unknown = root;
  for (const s of segs.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return false;
    cur = (cur as Record<PropertyKey, unknown>)[s];
  }
  if (cur === null || typeof cur !== 'object') return false;
  const last = segs[segs.length - 1] as PropertyKey;
  if (Array.isArray(cur) && typeof last === 'number') {
    // Removing a list element would shift the indexes of later elements and misplace their issues, so a
    // bad element is not pruned: semantic checks are then skipped for this resource (structural issues
    // are still all reported).
    return false;
  }
  delete (cur as Record<PropertyKey, unknown>)[last];
  return true;
}

/**
 * Parses `data` with `schema`, collecting every structural issue. When the data has problems, the
 * offending fields (unknown or mistyped) are removed from a copy and parsing is retried, so that the
 * remaining well-formed value can still go through the kind's semantic checks: a resource with an
 * unknown field *and* weights that do not sum to 100 reports both.
 */
export function parseCollecting<T>(
  schema: z.ZodType<T>,
  data: unknown,
  base: string,
): { value: T | undefined; issues: Issue[] } {
  const first = schema.safeParse(data, { reportInput: true });
  if (first.success) return { value: first.data, issues: [] };
  const issues = zodIssuesToIssues(base, first.error.issues);
  let copy: unknown = structuredClone(data);
  let current = first.error.issues;
  for (let round = 0; round < 8; round++) {
    let removed = false;
    for (const iss of current) {
      if (iss.code === 'unrecognized_keys') {
        for (const k of iss.keys) removed = deleteAt(copy, [...iss.path, k]) || removed;
      } else if (iss.input !== undefined) {
        removed = deleteAt(copy, iss.path) || removed;
      }
    }
    if (!removed) break;
    const again = schema.safeParse(copy, { reportInput: true });
    if (again.success) return { value: again.data, issues };
    current = again.error.issues;
    copy = structuredClone(copy);
  }
  return { value: undefined, issues };
}
