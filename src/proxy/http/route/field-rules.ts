// The protoc-gen-validate string rules of Envoy's protos that the route compiler checks, with PGV's messages:
// the rewrite and redirect fields of route_components.proto, RegexMatchAndSubstitute.substitution (regex.proto)
// and HeaderValue (base.proto) carry `well_known_regex: HTTP_HEADER_VALUE` or `HTTP_HEADER_NAME`, both with
// `strict: false`: no NUL, CR or LF, which would split a request line or a header.

const NO_NUL_CR_LF = /^[^\0\n\r]*$/;

/** Adds the problem at `at` and returns false when `value` holds NUL, CR or LF. */
export function checkHeaderValueField(value: string, at: string, problems: string[]): boolean {
  if (NO_NUL_CR_LF.test(value)) return true;
  problems.push(`${at}: value does not match regex pattern "^[^\\x00\\n\\r]*$"`);
  return false;
}

/** HeaderValue's bounds on its key and value: at least one character of key, at most 16384 bytes each. */
export function checkHeaderValueBounds(key: string, value: string, at: string, problems: string[]): boolean {
  let ok = true;
  if (key.length === 0) {
    problems.push(`${at}.key: value length must be at least 1 characters`);
    ok = false;
  }
  for (const [field, text] of [['key', key], ['value', value]] as const) {
    if (Buffer.byteLength(text) > 16384) {
      problems.push(`${at}.${field}: value length must be at most 16384 bytes`);
      ok = false;
    }
  }
  return ok;
}
