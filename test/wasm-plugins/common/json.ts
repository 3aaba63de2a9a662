// Minimal JSON field readers for plugin configuration, shared by both SDKs' plugins.
// AssemblyScript has no JSON in its standard library, and neither SDK ships one, so these read
// top-level fields of a FLAT object such as {"deny_path":"/admin","tick_ms":50}: string fields
// (with \" \\ \/ \n \t escapes), integer fields and booleans. Nested objects/arrays are not
// understood. Compiles with AssemblyScript 0.17 (solo-io) and 0.28 (gcore) alike.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)

/** True when `json` looks like an object: first non-blank char `{`, last `}`. */
export function isJsonObject(json: string): bool {
  const t = json.trim();
  return t.length >= 2 && t.charCodeAt(0) == 123 && t.charCodeAt(t.length - 1) == 125;
}

/** Index just after the `:` that follows `"key"`, or -1 when the key is absent. */
function valueStart(json: string, key: string): i32 {
  const needle = "\"" + key + "\"";
  let from = 0;
  while (true) {
    const at = json.indexOf(needle, from);
    if (at < 0) return -1;
    let i = at + needle.length;
    while (i < json.length && isBlank(json.charCodeAt(i))) i++;
    if (i < json.length && json.charCodeAt(i) == 58 /* : */) {
      i++;
      while (i < json.length && isBlank(json.charCodeAt(i))) i++;
      return i;
    }
    from = at + 1;
  }
  return -1;
}

function isBlank(c: i32): bool {
  return c == 32 || c == 9 || c == 10 || c == 13;
}

/** The string value of `key`, or `fallback` when absent or not a string. */
export function jsonString(json: string, key: string, fallback: string): string {
  let i = valueStart(json, key);
  if (i < 0 || i >= json.length || json.charCodeAt(i) != 34 /* " */) return fallback;
  i++;
  let out = "";
  while (i < json.length) {
    const c = json.charCodeAt(i);
    if (c == 34) return out;
    if (c == 92 /* \ */ && i + 1 < json.length) {
      const e = json.charCodeAt(i + 1);
      if (e == 110) out += "\n";
      else if (e == 116) out += "\t";
      else out += String.fromCharCode(e);
      i += 2;
      continue;
    }
    out += String.fromCharCode(c);
    i++;
  }
  return fallback; // unterminated string
}

/** The non-negative integer value of `key`, or `fallback` when absent or not a number. */
export function jsonInt(json: string, key: string, fallback: i32): i32 {
  let i = valueStart(json, key);
  if (i < 0) return fallback;
  let n: i32 = 0;
  let digits = 0;
  while (i < json.length) {
    const c = json.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    digits++;
    i++;
  }
  return digits > 0 ? n : fallback;
}

/** The boolean value of `key`, or `fallback` when absent or not `true`/`false`. */
export function jsonBool(json: string, key: string, fallback: bool): bool {
  const i = valueStart(json, key);
  if (i < 0) return fallback;
  if (json.substring(i, i + 4) == "true") return true;
  if (json.substring(i, i + 5) == "false") return false;
  return fallback;
}

/** Decimal text of a non-negative counter stored in shared data ("" or garbage reads as 0). */
export function parseCount(text: string): i64 {
  let n: i64 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return 0;
    n = n * 10 + <i64>(c - 48);
  }
  return n;
}
