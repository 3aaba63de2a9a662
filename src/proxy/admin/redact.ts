// Envoy's MessageUtil::redact (source/common/protobuf/utility.cc), which /config_dump applies to everything
// it prints: a field annotated `udpa.annotations.sensitive` (TlsCertificate.private_key and password,
// GenericSecret.secret, TlsSessionTicketKeys.keys ...) and everything under it is hidden: strings become
// `[redacted]`, bytes the bytes of `[redacted]` (base64 `W3JlZGFjdGVkXQ==` in JSON), other scalars and
// enums are cleared. Anys are opened with the registry, redacted inside and repacked. Map keys are kept,
// and TypedStruct contents are not redacted (Envoy redacts them against the schema their type_url names).
// One addition: Istio's Wasm image pull secret in a VM's environment (below).
// Returns a redacted copy; the message given (an entry of an immutable table) is never changed.

import { clone, getOption, ScalarType, toBinary, type DescField, type DescMessage, type MessageShape, type Registry } from '@bufbuild/protobuf';
import { isReflectMessage, reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { sensitive } from '../../xds/gen/udpa/annotations/sensitive_pb.js';

export const REDACTED = '[redacted]';
const REDACTED_BYTES = new TextEncoder().encode(REDACTED);

const sensitiveFields = new WeakMap<DescField, boolean>();
const WASM_ENV_TYPE = 'envoy.extensions.wasm.v3.EnvironmentVariables';
const WASM_PULL_SECRET_KEY = 'ISTIO_META_WASM_IMAGE_PULL_SECRET';

function isSensitive(f: DescField): boolean {
  let s = sensitiveFields.get(f);
  if (s === undefined) {
    s = getOption(f, sensitive);
    sensitiveFields.set(f, s);
  }
  return s;
}

/** The redacted value of a sensitive scalar; undefined: clear it. */
function redactedScalar(f: DescField): string | Uint8Array | undefined {
  if (f.scalar === ScalarType.STRING) return REDACTED;
  if (f.scalar === ScalarType.BYTES) return REDACTED_BYTES;
  return undefined;
}

function redactAny(any: Any, hidden: boolean, registry: Registry): boolean {
  if (any.typeUrl === '') return false;
  const inner = anyUnpack(any, registry);
  const desc = inner !== undefined ? registry.getMessage(inner.$typeName) : undefined;
  if (inner === undefined || desc === undefined || !redactIn(reflect(desc, inner), hidden, registry)) return false;
  any.value = toBinary(desc, inner);
  return true;
}

/** Redacts `r` in place; `hidden`: an enclosing field is sensitive. Whether anything changed. */
function redactIn(r: ReflectMessage, hidden: boolean, registry: Registry): boolean {
  if (r.desc.typeName === 'google.protobuf.Any') return redactAny(r.message as Any, hidden, registry);
  let changed = false;
  for (const f of r.fields) {
    if (!r.isSet(f)) continue;
    const s = hidden || isSensitive(f);
    switch (f.fieldKind) {
      case 'scalar':
      case 'enum': {
        if (!s) break;
        const v = f.fieldKind === 'scalar' ? redactedScalar(f) : undefined;
        if (v === undefined) r.clear(f);
        else r.set(f, v);
        changed = true;
        break;
      }
      case 'message': {
        const m = r.get(f);
        if (redactIn(m, s, registry)) {
          r.set(f, m);
          changed = true;
        }
        break;
      }
      case 'list': {
        const list = r.get(f);
        if (f.listKind === 'message') {
          for (const [i, m] of list.entries()) {
            if (isReflectMessage(m) && redactIn(m, s, registry)) {
              list.set(i, m);
              changed = true;
            }
          }
        } else if (s) {
          const v = f.listKind === 'scalar' ? redactedScalar(f) : undefined;
          if (v === undefined) r.clear(f);
          else for (const i of list.keys()) list.set(i, v);
          changed = true;
        }
        break;
      }
      case 'map': {
        const map = r.get(f);
        // Istio's image pull secret (a docker config with credentials) rides in a Wasm VM's environment for
        // the proxy's fetcher; istio-agent strips it before Envoy sees it, so no dump ever shows it.
        if (r.desc.typeName === WASM_ENV_TYPE && f.localName === 'keyValues' && map.has(WASM_PULL_SECRET_KEY)) {
          map.set(WASM_PULL_SECRET_KEY, REDACTED);
          changed = true;
        }
        for (const [k, m] of map) {
          if (f.mapKind === 'message') {
            if (isReflectMessage(m) && redactIn(m, s, registry)) {
              map.set(k, m);
              changed = true;
            }
          } else if (s) {
            const v = f.mapKind === 'scalar' ? redactedScalar(f) : undefined;
            if (v === undefined) map.delete(k);
            else map.set(k, v);
            changed = true;
          }
        }
        break;
      }
    }
  }
  return changed;
}

/** `m` with its sensitive fields redacted as Envoy's config_dump prints them; `m` itself when it has none. */
export function redacted<D extends DescMessage>(schema: D, m: MessageShape<D>, registry: Registry): MessageShape<D> {
  const copy = clone(schema, m);
  return redactIn(reflect(schema, copy), false, registry) ? copy : m;
}
