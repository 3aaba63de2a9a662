// Envoy's protoc-gen-validate (PGV) constraints, checked from the descriptors. Envoy's protos carry
// `(validate.rules)` on their fields and `(validate.required)` on their oneofs, and Envoy refuses a resource
// that breaks one before it looks at anything else ("Proto constraint validation failed (...)", from the
// C++ code PGV generates: github.com/bufbuild/protoc-gen-validate, templates/cc/*.go). Reading the same
// options from the embedded descriptors gives every proto the proxy decodes the same checks, with PGV's
// reasons ("value length must be at least 1 characters", "value must be greater than 0s", "value is
// required", ...); the place is the field path in the proto's own names, with a list item's name when it
// has one (`virtual_hosts[0](reviews).domains[1]`), instead of PGV's `VirtualHostValidationError.Domains[1]`.
//
// What PGV's C++ code checks, and so what this checks:
// - every field's rules: strings, bytes, numbers, bools, enums, durations, Any, repeated (counts, unique,
//   each item's rules), maps (pair counts; C++ PGV checks neither keys nor values), message `required`;
// - embedded messages, recursively, unless `skip` (map values are not visited, as in C++ PGV);
// - oneofs marked `(validate.required)`;
// - messages marked `(validate.disabled)` are not checked.
// Beyond PGV: an Any whose type the registry knows is unpacked and checked too, as Envoy checks a
// typed_config when the extension it names is built (MessageUtil::anyConvertAndValidate).
// Unset fields read as their defaults, as C++ accessors do: `string name = 1 [min_len: 1]` fails unset.
// Pure; the rules of each field are read once and cached. The value rules live in pgv-values.ts.

import { getOption, hasOption, type DescField, type DescMessage, type Message, type Registry } from '@bufbuild/protobuf';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { disabled, MapRulesSchema, RepeatedRulesSchema, required as oneofRequired, rules as fieldRules, type FieldRules, type MapRules, type RepeatedRules } from './gen/validate/validate_pb.js';
import { countProblem, has, valueProblems, WRAPPERS } from './pgv-values.js';

/** What a check needs besides the message. */
export interface PgvOptions {
  /** Types an Any may hold; an Any of a type it knows is unpacked and checked. Without one, Anys are not opened. */
  readonly registry?: Registry;
}

interface Ctx {
  readonly registry: Registry | undefined;
  readonly out: string[];
}

/** Field rules of a field (undefined without any), read once. */
const rulesCache = new WeakMap<DescField, FieldRules | null>();
function rulesOf(field: DescField): FieldRules | undefined {
  let r = rulesCache.get(field);
  if (r === undefined) {
    r = hasOption(field, fieldRules) ? getOption(field, fieldRules) : null;
    rulesCache.set(field, r);
  }
  return r ?? undefined;
}

const skipCache = new WeakMap<DescMessage, boolean>();
function skipped(desc: DescMessage): boolean {
  let s = skipCache.get(desc);
  if (s === undefined) {
    s = hasOption(desc, disabled) && getOption(desc, disabled) === true;
    skipCache.set(desc, s);
  }
  return s;
}

/** `(name)` after a list item that has a name (a virtual host, a filter, a cluster), as the proxy's other checks print places. */
function label(item: unknown): string {
  const name = (item as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== '' ? `(${name})` : '';
}

/** An embedded message (or an Any the registry can open) checked in turn, unless its rules say skip. */
function embedded(v: unknown, field: DescField, rules: FieldRules | undefined, ctx: Ctx, at: string): void {
  if (v === undefined || v === null || rules?.message?.skip === true) return;
  const md = field.message;
  if (md === undefined || WRAPPERS.has(md.typeName)) return;
  if (md.typeName === 'google.protobuf.Any') {
    const any = v as Any;
    const inner = ctx.registry?.getMessage(any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1));
    if (inner === undefined) return;
    let m: Message | undefined;
    try {
      m = anyUnpack(any, inner);
    } catch {
      return; // a config that does not decode is refused where it is used, with that reason
    }
    if (m !== undefined) messageProblems(inner, m, ctx, at);
    return;
  }
  messageProblems(md, v as Message, ctx, at);
}

function fieldProblems(field: DescField, v: unknown, ctx: Ctx, at: string): void {
  const rules = rulesOf(field);
  const out = ctx.out;
  switch (field.fieldKind) {
    case 'list': {
      const list = v as readonly unknown[];
      const rr = rules?.type.case === 'repeated' ? (rules.type.value as RepeatedRules) : undefined;
      if (rr !== undefined) {
        const d = RepeatedRulesSchema;
        const p = countProblem(list.length, has(rr, d, 'minItems') ? rr.minItems : undefined, has(rr, d, 'maxItems') ? rr.maxItems : undefined, 'item');
        if (p !== undefined) out.push(`${at}: ${p}`);
        if (rr.unique) {
          const seen = new Set<unknown>();
          list.forEach((x, i) => {
            const k = typeof x === 'object' && x !== null ? JSON.stringify(x, (_k, val: unknown) => (typeof val === 'bigint' ? val.toString() : val)) : x;
            if (seen.has(k)) out.push(`${at}[${i}]: repeated value must contain unique items`);
            seen.add(k);
          });
        }
      }
      const items = rr?.items?.type;
      list.forEach((x, i) => {
        const ia = `${at}[${i}]${field.listKind === 'message' ? label(x) : ''}`;
        if (items !== undefined && items.case !== undefined) valueProblems(x, field, items, out, ia);
        if (field.listKind === 'message') embedded(x, field, rr?.items, ctx, ia);
      });
      return;
    }
    case 'map': {
      if (rules?.type.case !== 'map') return;
      const mr = rules.type.value as MapRules;
      const d = MapRulesSchema;
      const p = countProblem(Object.keys(v as object).length, has(mr, d, 'minPairs') ? mr.minPairs : undefined, has(mr, d, 'maxPairs') ? mr.maxPairs : undefined, 'pair');
      if (p !== undefined) out.push(`${at}: ${p}`);
      return;
    }
    case 'message': {
      const isSet = v !== undefined && v !== null;
      if (!isSet && rules?.message?.required === true) out.push(`${at}: value is required`);
      if (rules !== undefined && rules.type.case !== undefined) {
        if (field.message !== undefined && WRAPPERS.has(field.message.typeName)) {
          if (isSet) valueProblems(v, field, rules.type, out, at);
        } else valueProblems(isSet ? v : undefined, field, rules.type, out, at);
      }
      embedded(v, field, rules, ctx, at);
      return;
    }
    default:
      if (rules !== undefined && rules.type.case !== undefined) valueProblems(v, field, rules.type, out, at);
      return;
  }
}

function messageProblems(desc: DescMessage, m: Message, ctx: Ctx, prefix: string): void {
  if (skipped(desc)) return;
  const msg = m as unknown as Record<string, unknown>;
  const at = (name: string): string => (prefix === '' ? name : `${prefix}.${name}`);
  for (const member of desc.members) {
    if (member.kind === 'field') {
      fieldProblems(member, msg[member.localName], ctx, at(member.name));
      continue;
    }
    const o = msg[member.localName] as { case: string | undefined; value?: unknown } | undefined;
    const set = o?.case === undefined ? undefined : member.fields.find((f) => f.localName === o.case);
    if (set === undefined) {
      if (hasOption(member, oneofRequired) && getOption(member, oneofRequired)) ctx.out.push(`${at(member.name)}: is required (set one of ${member.fields.map((f) => f.name).join(', ')})`);
      continue;
    }
    fieldProblems(set, o?.value, ctx, at(set.name));
  }
}

/**
 * Every PGV constraint `message` (of type `desc`) breaks, as `<field path>: <reason>` (the path in the
 * proto's field names; empty when the message itself is the place). An empty list: Envoy would accept it.
 */
export function pgvProblems(desc: DescMessage, message: Message, options: PgvOptions = {}): string[] {
  const ctx: Ctx = { registry: options.registry, out: [] };
  messageProblems(desc, message, ctx, '');
  return ctx.out;
}
