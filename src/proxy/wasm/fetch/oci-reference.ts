// Parsing an image reference the way Docker and Istio read one: `[oci://]host[:port]/repo[:tag][@sha256:hex]`.
// The first path component is a registry only when it has a dot or a port or is `localhost`; otherwise the
// image lives on Docker Hub (single names get the `library/` prefix). No tag means `latest`.
// Grammar: github.com/distribution/reference (reference.go); Istio reads WasmPlugin URLs the same way
// through go-containerregistry's name.ParseReference.

export interface OciReference {
  /** Registry as written (`docker.io` for Hub), with its port: the key for pull-secret lookup. */
  registry: string;
  /** Host and port to send API calls to (`registry-1.docker.io` for Hub). */
  apiHost: string;
  repository: string;
  tag: string;
  /** Whether the tag was written in the URL (Istio's implicit pull-always applies only to a written `:latest`). */
  tagExplicit: boolean;
  /** `sha256:<hex>` when the reference pins a digest. */
  digest?: string;
  /** Stable cache key: `oci://registry/repo:tag`, or `oci://registry/repo@sha256:…` when pinned. */
  canonical: string;
}

const DOCKER_HUB = 'docker.io';
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Parses an image reference; answers a reason string when it is not one. */
export function parseOciReference(input: string): OciReference | string {
  let rest = input.startsWith('oci://') ? input.slice('oci://'.length) : input;
  if (rest === '') return 'empty image reference';
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return `invalid digest "${digest}" (want sha256:<64 hex>)`;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return `invalid tag "${tag}"`;
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  if (parts.length === 0 || parts.some((p) => !PATH_COMPONENT.test(p))) {
    return `invalid repository "${parts.join('/')}" (lower-case letters, digits and . _ - separators)`;
  }
  const repository = parts.join('/');
  const apiHost = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
  const base = `oci://${registry}/${repository}`;
  const ref: OciReference = {
    registry,
    apiHost,
    repository,
    tag: tag ?? 'latest',
    tagExplicit: tag !== undefined,
    canonical: digest !== undefined ? `${base}@${digest}` : `${base}:${tag ?? 'latest'}`,
  };
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** The host part of `host:port`, brackets of IPv6 literals removed. */
export function hostOnly(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  const i = hostPort.lastIndexOf(':');
  return i >= 0 && hostPort.indexOf(':') === i ? hostPort.slice(0, i) : hostPort;
}

/** Loopback registries are spoken to over plain HTTP, as go-containerregistry does for them. */
export function isLoopbackHost(hostPort: string): boolean {
  const h = hostOnly(hostPort);
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
