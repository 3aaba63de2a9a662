// The type registry the admin prints Anys with: every type Isthmus knows (XDS_REGISTRY), and for a type it
// does not know, an empty stand-in message of that name. A control plane may send such a type where Envoy
// allows it (an optional HTTP filter, a typed_per_filter_config for a filter this build lacks); the proxy
// holds it without understanding it, and its dump prints it as `{"@type": "<url>"}` with no fields rather
// than failing the whole /config_dump (protobuf JSON cannot print an Any whose type is unknown).

import { create, createFileRegistry, type DescMessage, type Registry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { XDS_REGISTRY } from '../../xds/codec.js';

const standIns = new Map<string, DescMessage | undefined>();

/** An empty message named `typeName`, defined in a file of its own. */
function standIn(typeName: string): DescMessage | undefined {
  if (standIns.has(typeName)) return standIns.get(typeName);
  const dot = typeName.lastIndexOf('.');
  let desc: DescMessage | undefined;
  try {
    const file = create(FileDescriptorProtoSchema, {
      name: `isthmus-admin-unknown/${typeName}.proto`,
      package: dot > 0 ? typeName.slice(0, dot) : '',
      syntax: 'proto3',
      messageType: [{ name: typeName.slice(dot + 1) }],
    });
    desc = createFileRegistry(file, () => undefined).getMessage(typeName);
  } catch {
    desc = undefined; // not a valid message name: the Any stays unprintable, as protobuf says
  }
  standIns.set(typeName, desc);
  return desc;
}

export const DUMP_REGISTRY: Registry = {
  kind: 'registry',
  [Symbol.iterator]: () => XDS_REGISTRY[Symbol.iterator](),
  get: (typeName) => XDS_REGISTRY.get(typeName) ?? standIn(typeName),
  getMessage: (typeName) => XDS_REGISTRY.getMessage(typeName) ?? standIn(typeName),
  getEnum: (typeName) => XDS_REGISTRY.getEnum(typeName),
  getExtension: (typeName) => XDS_REGISTRY.getExtension(typeName),
  getExtensionFor: (extendee, no) => XDS_REGISTRY.getExtensionFor(extendee, no),
  getService: (typeName) => XDS_REGISTRY.getService(typeName),
};
