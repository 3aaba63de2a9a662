// The SDS secrets istio-agent serves from files on the proxy's machine (security/pkg/nodeagent/cache
// FileCertificate): a DestinationRule's `caCertificates` becomes `file-root:<path>`, its `clientCertificate` and
// `privateKey` `file-cert:<cert>~<key>`; `file-root:system` is the system's trusted roots (Node's bundled
// Mozilla store, what `caCertificates` unset means for SIMPLE/MUTUAL in Istio). Files are read when first
// asked for and again when they change (checked at most once a second), so a renewed file is picked up by new
// connections; a file that cannot be read answers nothing, which fails the handshake as an SDS secret that
// never arrived does.

import { readFileSync, statSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { Clock } from '../../lib/clock.js';
import type { SecretSource } from '../upstream/connection-pools.js';

const ROOT_PREFIX = 'file-root:';
const CERT_PREFIX = 'file-cert:';
const SYSTEM = 'system';
const RECHECK_MS = 1000;

type Certificate = { readonly cert: string; readonly key: string };
type Validation = { readonly trustedCa: string };

interface Cached<T> {
  readonly value: T | undefined;
  readonly stamp: string;
  checkedAt: number;
}

function stampOf(paths: readonly string[]): string {
  return paths
    .map((p) => {
      try {
        const s = statSync(p);
        return `${s.mtimeMs}:${s.size}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** File-based secrets by name, in front of `fallback`. */
export function fileSecretSource(fallback: SecretSource, clock: Pick<Clock, 'now'>): SecretSource {
  const certs = new Map<string, Cached<Certificate>>();
  const roots = new Map<string, Cached<Validation>>();
  let system: Validation | undefined;
  function cached<T>(m: Map<string, Cached<T>>, name: string, paths: readonly string[], load: () => T | undefined): T | undefined {
    const now = clock.now();
    const c = m.get(name);
    if (c !== undefined && now - c.checkedAt < RECHECK_MS) return c.value;
    const stamp = stampOf(paths);
    if (c !== undefined && c.stamp === stamp) {
      c.checkedAt = now;
      return c.value;
    }
    const fresh: Cached<T> = { value: load(), stamp, checkedAt: now };
    m.set(name, fresh);
    return fresh.value;
  }
  return {
    certificate(name) {
      if (!name.startsWith(CERT_PREFIX)) return fallback.certificate(name);
      const [certPath = '', keyPath = ''] = name.slice(CERT_PREFIX.length).split('~');
      return cached(certs, name, [certPath, keyPath], () => {
        const cert = read(certPath);
        const key = read(keyPath);
        return cert !== undefined && key !== undefined ? { cert, key } : undefined;
      });
    },
    validation(name) {
      if (!name.startsWith(ROOT_PREFIX)) return fallback.validation(name);
      const path = name.slice(ROOT_PREFIX.length);
      if (path === SYSTEM) return (system ??= { trustedCa: rootCertificates.join('\n') });
      return cached(roots, name, [path], () => {
        const ca = read(path);
        return ca !== undefined ? { trustedCa: ca } : undefined;
      });
    },
  };
}
