// networking.istio.io Gateway (Istio's own Gateway, not the Gateway API kind): schema and Istio's
// validation (ValidateGateway, validateServer, validateServerPort, validateServerBind, validateTLSOptions in
// istio/istio pkg/config/validation/validation.go). Also owns ServerTLSSettings and its checks, which the
// Sidecar's ingress listeners reuse. Port protocols are parsed by protocol.ts.
// Defaults as Istio applies them: `tls.mode` unset is PASSTHROUGH (enum value 0); see `effectiveTlsMode`.

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import { isDns1123Label, labelKeyErrors, labelValueErrors } from '../names.js';
import type { Resource } from '../resource.js';
import { enumOf, obj, stringMap, uint32, z } from '../schema.js';
import { ipAddressErrors, namespaceSlashHostErrors, portErrors, UNIX_ADDRESS_PREFIX, unixAddressErrors } from '../validation/common.js';
import { goSortedList } from '../validation/go-format.js';
import { isHttpProtocol, isTlsProtocol, parseProtocol, type Protocol } from './protocol.js';

// ---------------------------------------------------------------------------------------------------
// Schemas (istio/api networking/v1alpha3/gateway.proto)

export const TLS_MODES = ['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

export const TLS_PROTOCOL_VERSIONS = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const;
export type TlsProtocolVersion = (typeof TLS_PROTOCOL_VERSIONS)[number];

export const TLSCertificateSchema = obj({
  serverCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
});
export type TLSCertificate = z.infer<typeof TLSCertificateSchema>;

export const ServerTLSSettingsSchema = obj({
  httpsRedirect: z.boolean().optional(),
  mode: enumOf(TLS_MODES).optional(),
  serverCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  caCrl: z.string().optional(),
  credentialName: z.string().optional(),
  // CRD: minItems 1, maxItems 2 for both lists.
  credentialNames: z.array(z.string()).min(1).max(2).optional(),
  caCertCredentialName: z.string().optional(),
  tlsCertificates: z.array(TLSCertificateSchema).min(1).max(2).optional(),
  subjectAltNames: z.array(z.string()).optional(),
  verifyCertificateSpki: z.array(z.string()).optional(),
  verifyCertificateHash: z.array(z.string()).optional(),
  minProtocolVersion: enumOf(TLS_PROTOCOL_VERSIONS).optional(),
  maxProtocolVersion: enumOf(TLS_PROTOCOL_VERSIONS).optional(),
  cipherSuites: z.array(z.string()).optional(),
  /** google.protobuf.BoolValue */
  insecureSkipVerify: z.boolean().optional(),
});
export type ServerTLSSettings = z.infer<typeof ServerTLSSettingsSchema>;

export const PortSchema = obj({
  number: uint32,
  protocol: z.string(),
  name: z.string(),
  /** Deprecated; rejected by Istio on Gateways. */
  targetPort: uint32.optional(),
});
export type Port = z.infer<typeof PortSchema>;

export const ServerSchema = obj({
  port: PortSchema,
  bind: z.string().optional(),
  hosts: z.array(z.string()),
  tls: ServerTLSSettingsSchema.optional(),
  defaultEndpoint: z.string().optional(),
  name: z.string().optional(),
});
export type Server = z.infer<typeof ServerSchema>;

export const IstioGatewaySpecSchema = obj({
  servers: z.array(ServerSchema).optional(),
  selector: stringMap.optional(),
});
export type IstioGatewaySpec = z.infer<typeof IstioGatewaySpecSchema>;

const BodySchema = obj({ spec: IstioGatewaySpecSchema.default({}), status: z.unknown().optional() });
export type IstioGatewayBody = z.infer<typeof BodySchema>;
export type IstioGateway = Resource<IstioGatewayBody>;

// ---------------------------------------------------------------------------------------------------
// Effective values

/** `tls.mode` as Istio reads it: unset is PASSTHROUGH (the enum's zero value). */
export function effectiveTlsMode(tls: ServerTLSSettings): TlsMode {
  return tls.mode ?? 'PASSTHROUGH';
}

/** The server's parsed port protocol (undefined when unsupported). */
export function serverProtocol(server: Server): Protocol | undefined {
  return parseProtocol(server.port.protocol);
}

/** True for a server whose port protocol is HTTPS. */
export function isHttpsServer(server: Server): boolean {
  return serverProtocol(server) === 'HTTPS';
}

/** Istio's gateway.IsPassThroughServer: TLS mode PASSTHROUGH or AUTO_PASSTHROUGH (tls must be present). */
export function isPassThroughServer(server: Server): boolean {
  if (server.tls === undefined) return false;
  const mode = effectiveTlsMode(server.tls);
  return mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH';
}

// ---------------------------------------------------------------------------------------------------
// ServerTLSSettings checks (validateTLSOptions)

/** Cipher suites Gateway TLS accepts (istio/istio pkg/config/security/security.go ValidCipherSuites). */
const VALID_CIPHER_SUITES: ReadonlySet<string> = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-SHA',
  'AES256-SHA',
  'DES-CBC3-SHA',
]);

/** security.IsValidCipherSuite: "" and ALL pass, and so do expressions starting with an operator (`-`, `+`, `!`, `[`). */
export function isValidCipherSuite(cs: string): boolean {
  if (cs === '' || cs === 'ALL') return true;
  if (!/^[\p{L}\p{N}]/u.test(cs)) return true;
  return VALID_CIPHER_SUITES.has(cs);
}

const set = (s: string | undefined): boolean => s !== undefined && s !== '';

/** Istio's validateTLSOptions, shared by Gateway servers and Sidecar ingress listeners. `path` is the tls field. */
export function serverTlsIssues(path: string, tls: ServerTLSSettings | undefined): Issue[] {
  if (tls === undefined) return [];
  const out: Issue[] = [];
  const mode = effectiveTlsMode(tls);
  const ciphers = tls.cipherSuites ?? [];
  if ((tls.minProtocolVersion === 'TLSV1_0' || tls.minProtocolVersion === 'TLSV1_1') && ciphers.length === 0)
    out.push(
      warning(
        at(path, 'minProtocolVersion'),
        'TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.',
      ),
    );
  // Not checked by Istio's webhook; Envoy rejects a listener whose minimum version is above its maximum
  // (envoy.extensions.transport_sockets.tls.v3.TlsParameters), so we say so without rejecting the object.
  const minV = tls.minProtocolVersion ?? 'TLS_AUTO';
  const maxV = tls.maxProtocolVersion ?? 'TLS_AUTO';
  if (minV !== 'TLS_AUTO' && maxV !== 'TLS_AUTO' && TLS_PROTOCOL_VERSIONS.indexOf(minV) > TLS_PROTOCOL_VERSIONS.indexOf(maxV))
    out.push(warning(at(path, 'minProtocolVersion'), `minProtocolVersion ${minV} is higher than maxProtocolVersion ${maxV}; Envoy will reject this TLS context`));

  const invalid = new Set<string>();
  const valid = new Set<string>();
  const dup = new Set<string>();
  for (const cs of ciphers) {
    if (!isValidCipherSuite(cs)) invalid.add(cs);
    else if (valid.has(cs)) dup.add(cs);
    else valid.add(cs);
  }
  if (invalid.size > 0) out.push(warning(at(path, 'cipherSuites'), `ignoring invalid cipher suites: ${goSortedList(invalid)}`));
  if (dup.size > 0) out.push(warning(at(path, 'cipherSuites'), `ignoring duplicate cipher suites: ${goSortedList(dup)}`));

  if (mode === 'ISTIO_MUTUAL') {
    // ISTIO_MUTUAL uses the workload certificate; any other certificate source is an error.
    if (set(tls.serverCertificate)) out.push(error(at(path, 'serverCertificate'), 'ISTIO_MUTUAL TLS cannot have associated server certificate'));
    if (set(tls.privateKey)) out.push(error(at(path, 'privateKey'), 'ISTIO_MUTUAL TLS cannot have associated private key'));
    if (set(tls.caCertificates)) out.push(error(at(path, 'caCertificates'), 'ISTIO_MUTUAL TLS cannot have associated CA bundle'));
    if ((tls.tlsCertificates?.length ?? 0) > 0) out.push(error(at(path, 'tlsCertificates'), 'ISTIO_MUTUAL TLS cannot have associated tlsCertificates'));
    if (set(tls.credentialName)) out.push(error(at(path, 'credentialName'), 'ISTIO_MUTUAL TLS cannot have associated credentialName'));
    if ((tls.credentialNames?.length ?? 0) > 0) out.push(error(at(path, 'credentialNames'), 'ISTIO_MUTUAL TLS cannot have associated credentialNames'));
    return out;
  }

  if (mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') {
    if (
      set(tls.caCrl) ||
      set(tls.serverCertificate) ||
      set(tls.privateKey) ||
      set(tls.caCertificates) ||
      (tls.tlsCertificates?.length ?? 0) > 0 ||
      set(tls.credentialName) ||
      (tls.credentialNames?.length ?? 0) > 0
    )
      out.push(warning(path, `${mode} mode does not use certificates, they will be ignored`));
  }

  let sources = 0;
  if (set(tls.serverCertificate) && set(tls.privateKey)) sources++;
  if (set(tls.credentialName)) sources++;
  if ((tls.credentialNames?.length ?? 0) > 0) sources++;
  if ((tls.tlsCertificates?.length ?? 0) > 0) sources++;
  if (sources > 1) out.push(error(path, 'only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified'));

  const terminating = mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL';
  // With a credential name the certificates are fetched over SDS; nothing else is required.
  if (terminating && (set(tls.credentialName) || (tls.credentialNames?.length ?? 0) > 0)) return out;

  if (terminating) {
    const prefix = mode === 'SIMPLE' ? 'SIMPLE TLS' : 'MUTUAL TLS';
    if (prefix === 'MUTUAL TLS' && !set(tls.caCertificates)) out.push(error(path, `${prefix} requires a client CA bundle`));
    if ((tls.tlsCertificates?.length ?? 0) > 2) out.push(warning(at(path, 'tlsCertificates'), `${prefix} can support up to 2 server certificates`));
    const certs: { path: string; cert: TLSCertificate }[] =
      tls.tlsCertificates !== undefined && tls.tlsCertificates.length > 0
        ? tls.tlsCertificates.map((cert, i) => ({ path: at(at(path, 'tlsCertificates'), i), cert }))
        : [{ path, cert: { ...(tls.serverCertificate !== undefined ? { serverCertificate: tls.serverCertificate } : {}), ...(tls.privateKey !== undefined ? { privateKey: tls.privateKey } : {}) } }];
    for (const c of certs) {
      if (!set(c.cert.serverCertificate)) out.push(error(c.path, `${prefix} requires a server certificate`));
      if (!set(c.cert.privateKey)) out.push(error(c.path, `${prefix} requires a private key`));
    }
  }
  if (set(tls.caCrl)) {
    if (set(tls.credentialName))
      out.push(error(at(path, 'caCrl'), 'CRL is not supported with credentialName. CRL has to be specified in the credential'));
    if (mode === 'SIMPLE') out.push(error(at(path, 'caCrl'), 'CRL is not supported with SIMPLE TLS'));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Gateway checks

function serverPortIssues(path: string, port: Port, bind: string): Issue[] {
  const out: Issue[] = [];
  if (parseProtocol(port.protocol) === undefined)
    out.push(
      error(
        at(path, 'protocol'),
        `invalid protocol ${JSON.stringify(port.protocol)}, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP`,
      ),
    );
  if (port.number > 0 || !bind.startsWith(UNIX_ADDRESS_PREFIX)) for (const m of portErrors(port.number)) out.push(error(at(path, 'number'), m));
  if ((port.targetPort ?? 0) > 0) out.push(error(at(path, 'targetPort'), 'targetPort has no impact on Gateways'));
  if (port.name === '') out.push(error(at(path, 'name'), `port name must be set: number:${port.number} protocol:${JSON.stringify(port.protocol)}`));
  return out;
}

function serverBindIssues(path: string, port: Port, bind: string): Issue[] {
  const out: Issue[] = [];
  if (bind.startsWith(UNIX_ADDRESS_PREFIX)) {
    for (const m of unixAddressErrors(bind.slice(UNIX_ADDRESS_PREFIX.length))) out.push(error(at(path, 'bind'), m));
    if (port.number !== 0)
      out.push(error(at(at(path, 'port'), 'number'), `port number must be 0 for unix domain socket: number:${port.number} name:${JSON.stringify(port.name)}`));
  } else if (bind !== '') {
    for (const m of ipAddressErrors(bind)) out.push(error(at(path, 'bind'), m));
  }
  return out;
}

/** Istio's validateServer for one `spec.servers[i]`. */
export function serverIssues(path: string, server: Server): Issue[] {
  const out: Issue[] = [];
  if (server.hosts.length === 0) out.push(error(at(path, 'hosts'), 'server config must contain at least one host'));
  server.hosts.forEach((h, i) => {
    for (const m of namespaceSlashHostErrors(h, true)) out.push(error(at(at(path, 'hosts'), i), m));
  });
  const bind = server.bind ?? '';
  const portIssues = serverPortIssues(at(path, 'port'), server.port, bind);
  out.push(...portIssues);
  out.push(...serverBindIssues(path, server.port, bind));
  out.push(...serverTlsIssues(at(path, 'tls'), server.tls));

  if (portIssues.length === 0) {
    const p = parseProtocol(server.port.protocol);
    const tls = server.tls;
    if (isTlsProtocol(p) && tls === undefined) out.push(error(path, 'server must have TLS settings for HTTPS/TLS protocols'));
    else if (!isTlsProtocol(p) && tls !== undefined) {
      // A plain-text HTTP server may only carry `httpsRedirect` (mode left at PASSTHROUGH, no certificates).
      if (isHttpProtocol(p)) {
        if (!isPassThroughServer(server) || set(tls.caCertificates) || set(tls.privateKey) || set(tls.serverCertificate))
          out.push(error(at(path, 'tls'), 'server cannot have TLS settings for plain text HTTP ports'));
      } else out.push(error(at(path, 'tls'), 'server cannot have TLS settings for non HTTPS/TLS ports'));
    }
  }
  return out;
}

export function validateIstioGateway(r: IstioGateway): Issue[] {
  const out: Issue[] = [];
  const spec = r.spec;
  // Istio requires a DNS-1123 label (no dots) for Istio Gateway names.
  if (!isDns1123Label(r.metadata.name)) out.push(error('metadata.name', `invalid gateway name: ${JSON.stringify(r.metadata.name)}`));
  const servers = spec.servers ?? [];
  if (servers.length === 0) out.push(error('spec.servers', 'gateway must have at least one server'));
  servers.forEach((s, i) => out.push(...serverIssues(`spec.servers[${i}]`, s)));

  const names = new Set<string>();
  servers.forEach((s, i) => {
    if (names.has(s.port.name)) out.push(error(`spec.servers[${i}].port.name`, `port names in servers must be unique: duplicate name ${s.port.name}`));
    names.add(s.port.name);
    if (!isHttpProtocol(parseProtocol(s.port.protocol)) && s.tls?.httpsRedirect === true)
      out.push(warning(`spec.servers[${i}].tls.httpsRedirect`, 'tls.httpsRedirect should only be used with http servers'));
  });

  // Istio does not check the selector; a key or value that is not a valid label can never match a pod.
  for (const [k, v] of Object.entries(spec.selector ?? {})) {
    for (const m of labelKeyErrors(k)) out.push(warning(at('spec.selector', k), `selector key ${JSON.stringify(k)} can never match a pod label: ${m}`));
    for (const m of labelValueErrors(v)) out.push(warning(at('spec.selector', k), `selector value ${JSON.stringify(v)} can never match a pod label: ${m}`));
  }
  return out;
}

export const ISTIO_GATEWAY = defineKind<IstioGatewayBody>({
  group: 'networking.istio.io',
  kind: 'Gateway',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateIstioGateway,
});
