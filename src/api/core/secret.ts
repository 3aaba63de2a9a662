// core/v1 Secret: schema (k8s.io/api core/v1 Secret: `type`, `data` (base64), `stringData` (plain text, merged
// over `data` by the API server), `immutable`) and Kubernetes' checks (k8s.io/kubernetes pkg/apis/core/validation
// ValidateSecret: data keys are config keys (IsConfigMapKey), at most 1 MiB in all, and the keys each type
// requires, e.g. `tls.crt` and `tls.key` for kubernetes.io/tls). Values must decode as base64 the way the API
// server's JSON decoder does (Go's base64.StdEncoding: padding required, CR and LF ignored), else the object
// cannot be read at all. The mesh reads gateway certificates from these (credentialName).
//
// Secret values never appear in an issue: type errors, base64 errors and JSON errors name the key and the
// reason only (Kubernetes prints `<secret contents redacted>` for the same reason).

import { at, error, type Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { obj, z } from '../schema.js';
import { invalid, required } from './k8s-common.js';

/** A data or stringData value: a string. The schema's own message would quote the value, so this one does not. */
const secretValue = z.custom<string>((v) => typeof v === 'string', { message: 'must be a string (value not shown)' });

const BodySchema = obj({
  type: z.string().optional(),
  data: z.record(z.string(), secretValue).optional(),
  stringData: z.record(z.string(), secretValue).optional(),
  immutable: z.boolean().optional(),
});
export type SecretBody = z.infer<typeof BodySchema>;
export type Secret = Resource<SecretBody>;

/** Secret types and keys (k8s.io/api core/v1 types.go). */
export const SECRET_TYPE_OPAQUE = 'Opaque';
export const SECRET_TYPE_TLS = 'kubernetes.io/tls';
export const TLS_CERT_KEY = 'tls.crt';
export const TLS_PRIVATE_KEY_KEY = 'tls.key';
export const SERVICE_ACCOUNT_TOKEN_TYPE = 'kubernetes.io/service-account-token';
const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
const DOCKERCFG_TYPE = 'kubernetes.io/dockercfg';
const DOCKERCFG_KEY = '.dockercfg';
const DOCKER_CONFIG_JSON_TYPE = 'kubernetes.io/dockerconfigjson';
const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';
const BASIC_AUTH_TYPE = 'kubernetes.io/basic-auth';
const SSH_AUTH_TYPE = 'kubernetes.io/ssh-auth';

/** core.MaxSecretSize. */
export const MAX_SECRET_SIZE = 1024 * 1024;

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < BASE64_ALPHABET.length; i++) DECODE[BASE64_ALPHABET.charCodeAt(i)] = i;
const CR = 0x0d;
const LF = 0x0a;
const PAD = 0x3d;

/**
 * Go's base64.StdEncoding.Decode, as the API server applies it to `data` values: the decoded bytes, or the
 * byte offset Go's CorruptInputError reports (`illegal base64 data at input byte N`).
 */
export function decodeStdBase64(text: string): { ok: true; bytes: Uint8Array } | { ok: false; offset: number } {
  const src = Buffer.from(text, 'utf8');
  const out: number[] = [];
  let si = 0;
  const skipNewlines = (): void => {
    while (si < src.length && (src[si] === CR || src[si] === LF)) si++;
  };
  for (;;) {
    const q: number[] = [];
    let done = false;
    while (q.length < 4) {
      if (si === src.length) {
        if (q.length === 0) return { ok: true, bytes: Uint8Array.from(out) };
        return { ok: false, offset: si - q.length }; // a quantum without its padding
      }
      const c = src[si] as number;
      si++;
      const v = DECODE[c] ?? -1;
      if (v >= 0) {
        q.push(v);
        continue;
      }
      if (c === CR || c === LF) continue;
      if (c !== PAD || q.length < 2) return { ok: false, offset: si - 1 };
      if (q.length === 2) {
        skipNewlines();
        if (si === src.length) return { ok: false, offset: src.length };
        if (src[si] !== PAD) return { ok: false, offset: si - 1 };
        si++;
      }
      skipNewlines();
      if (si < src.length) return { ok: false, offset: si };
      done = true;
      break;
    }
    const [a = 0, b = 0, c = 0, d = 0] = q;
    const val = (a << 18) | (b << 12) | (c << 6) | d;
    out.push((val >> 16) & 0xff);
    if (q.length >= 3) out.push((val >> 8) & 0xff);
    if (q.length === 4) out.push(val & 0xff);
    if (done) return { ok: true, bytes: Uint8Array.from(out) };
  }
}

/** IsConfigMapKey (k8s.io/apimachinery/pkg/util/validation). */
export function configKeyErrors(key: string): string[] {
  const out: string[] = [];
  if (key.length > 253) out.push('must be no more than 253 characters');
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) {
    out.push(
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    );
  }
  if (key === '.') out.push("must not be '.'");
  else if (key === '..') out.push("must not be '..'");
  else if (key.startsWith('..')) out.push("must not start with '..'");
  return out;
}

/**
 * The Secret's data as the API server stores it: `data` decoded, `stringData` (UTF-8) merged over it. Keys
 * whose value is not valid base64 are left out (validation reports them).
 */
export function secretData(secret: SecretBody): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    const d = decodeStdBase64(v);
    if (d.ok) out.set(k, d.bytes);
  }
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out.set(k, new Uint8Array(Buffer.from(v, 'utf8')));
  return out;
}

/** The JSON check of the docker config types: Go unmarshals into map[string]interface{}. */
function dockerJsonIssues(path: string, bytes: Uint8Array | undefined): Issue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes ?? new Uint8Array()).toString('utf8'));
  } catch {
    // The parser's message may quote the content; say only that it is not JSON.
    return [invalid(path, '<secret contents redacted>', 'the value is not valid JSON')];
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return [];
  const what = Array.isArray(parsed) ? 'array' : typeof parsed === 'string' ? 'string' : typeof parsed === 'number' ? 'number' : typeof parsed === 'boolean' ? 'bool' : '';
  return what === '' ? [] : [invalid(path, '<secret contents redacted>', `json: cannot unmarshal ${what} into Go value of type map[string]interface {}`)];
}

/** Where a merged key was written: `stringData` when it came from there (Kubernetes says `data` after merging). */
function keyPath(secret: SecretBody, key: string): string {
  return at(secret.stringData !== undefined && key in secret.stringData ? 'stringData' : 'data', key);
}

export function validateSecret(secret: Secret): Issue[] {
  const out: Issue[] = [];
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    const d = decodeStdBase64(v);
    if (!d.ok) out.push(error(at('data', k), `illegal base64 data at input byte ${d.offset}`));
  }
  const data = secretData(secret);
  // A key whose value does not decode is present (and reported above), not missing.
  const present = new Set([...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})]);
  let total = 0;
  for (const k of present) for (const m of configKeyErrors(k)) out.push(invalid(keyPath(secret, k), k, m));
  for (const v of data.values()) total += v.length;
  if (total > MAX_SECRET_SIZE) out.push(error('data', `Too long: must have at most ${MAX_SECRET_SIZE} bytes`));
  const need = (key: string): void => {
    if (!present.has(key)) out.push(required(at('data', key)));
  };
  switch (secret.type ?? '') {
    case SERVICE_ACCOUNT_TOKEN_TYPE:
      if ((secret.metadata.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION] ?? '') === '') out.push(required(at('metadata.annotations', SERVICE_ACCOUNT_NAME_ANNOTATION)));
      break;
    case DOCKERCFG_TYPE:
    case DOCKER_CONFIG_JSON_TYPE: {
      const key = secret.type === DOCKERCFG_TYPE ? DOCKERCFG_KEY : DOCKER_CONFIG_JSON_KEY;
      if (!present.has(key)) need(key);
      else if (data.has(key)) out.push(...dockerJsonIssues(keyPath(secret, key), data.get(key)));
      break;
    }
    case BASIC_AUTH_TYPE:
      if (!present.has('username') && !present.has('password')) {
        need('username');
        need('password');
      }
      break;
    case SSH_AUTH_TYPE:
      if ((data.get('ssh-privatekey')?.length ?? 0) === 0) out.push(required(at('data', 'ssh-privatekey')));
      break;
    case SECRET_TYPE_TLS:
      need(TLS_CERT_KEY);
      need(TLS_PRIVATE_KEY_KEY);
      break;
    default:
      // Opaque, '' and any other type: no required keys.
      break;
  }
  return out;
}

export const SECRET = defineKind<SecretBody>({
  group: '',
  kind: 'Secret',
  versions: ['v1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateSecret,
});
