#!/usr/bin/env node
// Generates TypeScript types and codecs for the Envoy xDS v3 API (protobuf-es) into src/xds/gen/.
//
// The .proto sources are the Envoy, xds, googleapis and protoc-gen-validate trees that ship inside
// @grpc/grpc-js-xds (the same API snapshot the gRPC xDS clients we test against were built from).
// That snapshot's validate/validate.proto predates StringRules.ignore_empty, which 17 Envoy fields use;
// as validation annotations play no part in generated code, the option is dropped from the copies.
//
// Istio's own service protos that Isthmus speaks (the CA's IstioCertificateService) are in proto/.
//
// The output is not committed: `npm run build`, `npm run lint` and `npm test` run this first. It is
// skipped when the stamp (inputs' versions + this script) is unchanged.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const out = join(root, 'src/xds/gen');

/** The protos whose messages Isthmus builds, serves or decodes; their imports come along. */
const FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/service/status/v3/csds.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/admin/v3/config_dump.proto',
  'envoy/admin/v3/clusters.proto',
  'envoy/admin/v3/certs.proto',
  'envoy/admin/v3/server_info.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/request_id/uuid/v3/uuid.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/access_loggers/filters/cel/v3/cel.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/wasm/v3/wasm.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/config/trace/v3/opentelemetry.proto',
  'envoy/config/trace/v3/zipkin.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/grpc_web/v3/grpc_web.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/http/wasm/v3/wasm.proto',
  'envoy/extensions/filters/http/stateful_session/v3/stateful_session.proto',
  'envoy/extensions/http/stateful_session/cookie/v3/cookie.proto',
  'envoy/extensions/http/stateful_session/header/v3/header.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/network/dns_resolver/cares/v3/cares_dns_resolver.proto',
  'envoy/extensions/network/dns_resolver/getaddrinfo/v3/getaddrinfo_dns_resolver.proto',
  'envoy/service/auth/v3/external_auth.proto',
  'envoy/service/secret/v3/sds.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto',
  'envoy/extensions/path/match/uri_template/v3/uri_template_match.proto',
  'envoy/extensions/path/rewrite/uri_template/v3/uri_template_rewrite.proto',
];

const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const script = readFileSync(fileURLToPath(import.meta.url));
const versions = ['@grpc/grpc-js-xds', '@bufbuild/protoc-gen-es', '@bufbuild/buf']
  .map((p) => `${p}@${JSON.parse(readFileSync(require.resolve(`${p}/package.json`), 'utf8')).version}`);
const ownProtos = join(root, 'proto');
/** From the xds tree: TypedStruct, which Istio wraps its own filters' configs in (istio.stats, istio.metadata_exchange). */
const XDS_TREE_FILES = ['udpa/type/v1/typed_struct.proto', 'xds/type/v3/typed_struct.proto'];
/** Isthmus's copies of Istio contracts (proto/): the CA service, the istio.alpn filter config; generated alongside Envoy's. */
const OWN_FILES = ['istio/v1/auth/ca.proto', 'istio/envoy/config/filter/http/alpn/v2alpha1/config.proto'];
const stamp = createHash('sha256').update(script).update(versions.join(',')).update(OWN_FILES.map((f) => readFileSync(join(ownProtos, f))).join('\0')).digest('hex');
const stampFile = join(out, '.stamp');
if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && process.argv[2] !== '--force') process.exit(0);

const work = mkdtempSync(join(tmpdir(), 'isthmus-gen-xds-'));
try {
  const trees = { 'envoy-api': 'envoy-api', xds: 'xds', googleapis: 'googleapis', validate: 'protoc-gen-validate/validate' };
  for (const [name, src] of Object.entries(trees)) {
    cpSync(join(deps, src), join(work, name === 'validate' ? 'validate/validate' : name), { recursive: true });
  }
  dropIgnoreEmpty(join(work, 'envoy-api'));
  cpSync(ownProtos, join(work, 'isthmus'), { recursive: true });
  writeFileSync(join(work, 'buf.yaml'), [
    'version: v2',
    'modules:',
    ...[...Object.keys(trees), 'isthmus'].map((t) => `  - path: ${t}`),
    '',
  ].join('\n'));
  writeFileSync(join(work, 'buf.gen.yaml'), [
    'version: v2',
    'plugins:',
    `  - local: ${JSON.stringify(join(root, 'node_modules/.bin/protoc-gen-es'))}`,
    `    out: ${JSON.stringify(join(work, 'out'))}`,
    '    include_imports: true',
    '    opt: [target=ts, import_extension=js]',
    '',
  ].join('\n'));
  const buf = join(root, 'node_modules/.bin/buf');
  execFileSync(buf, ['generate', ...FILES.flatMap((f) => ['--path', join('envoy-api', f)]), ...XDS_TREE_FILES.flatMap((f) => ['--path', join('xds', f)]), ...OWN_FILES.flatMap((f) => ['--path', join('isthmus', f)])], { cwd: work, stdio: 'inherit' });
  rmSync(out, { recursive: true, force: true });
  cpSync(join(work, 'out'), out, { recursive: true });
  writeFileSync(stampFile, stamp);
  process.stdout.write(`gen-xds: ${countFiles(out)} files in src/xds/gen\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

function dropIgnoreEmpty(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) dropIgnoreEmpty(p);
    else if (name.endsWith('.proto')) {
      const text = readFileSync(p, 'utf8');
      if (text.includes('ignore_empty')) writeFileSync(p, text.replace(/\s*ignore_empty:\s*true/g, ''));
    }
  }
}

function countFiles(dir) {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    n += statSync(p).isDirectory() ? countFiles(p) : 1;
  }
  return n;
}
