// The failure vocabulary of module fetching: a stable code per reason a plugin's bytes could not be had,
// and the message naming the URL and the cause. Inside the fetch pipeline a failure is thrown as a
// ModuleFetchError; createModuleFetcher turns it into a value at its boundary, so callers never see a throw.

import { createHash } from 'node:crypto';

export type ModuleFetchErrorCode =
  /** The URL cannot be parsed, or its scheme is not file/http/https/oci. */
  | 'BAD_URL'
  /** Connection refused, DNS failure, TLS failure or timeout after the bounded retries. */
  | 'UNREACHABLE'
  /** The server answered with a status that is not success (5xx after retries, or another 4xx). */
  | 'HTTP_STATUS'
  /** 404 for the module, the manifest or a blob. */
  | 'NOT_FOUND'
  /** 401/403, or a registry asked for credentials the pull secret does not have. */
  | 'UNAUTHORIZED'
  /** sha256 given and different from what was downloaded, or a blob not matching its digest. */
  | 'CHECKSUM_MISMATCH'
  /** A manifest or image that none of the supported wasm image formats can read. */
  | 'BAD_IMAGE'
  /** A Docker/OCI image whose layer holds no plugin.wasm. */
  | 'NO_PLUGIN_WASM'
  /** The bytes do not start with the wasm magic \0asm and a version. */
  | 'NOT_WASM'
  /** The module, a manifest or a layer is larger than the configured limit. */
  | 'TOO_LARGE'
  /** A file:// module cannot be read. */
  | 'FILE_READ';

export class ModuleFetchError extends Error {
  readonly code: ModuleFetchErrorCode;
  constructor(code: ModuleFetchErrorCode, message: string) {
    super(message);
    this.name = 'ModuleFetchError';
    this.code = code;
  }
}

/** Lower-case hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A wasm binary starts with the magic `\0asm` followed by a 4-byte version: 8 bytes at least
 * (the same test as Istio's pkg/wasm isValidWasmBinary).
 */
export function isWasmBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
}

/** The message Istio's agent gives for a checksum mismatch (pkg/wasm/cache.go), kept word for word. */
export function checksumMismatch(url: string, actual: string, expected: string): ModuleFetchError {
  return new ModuleFetchError(
    'CHECKSUM_MISMATCH',
    `module downloaded from ${url} has checksum ${actual}, which does not match: ${expected}`,
  );
}

/** Renders an unknown thrown value as a short reason. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message && !err.message.includes(cause.message)) {
      return `${err.message}: ${cause.message}`;
    }
    return err.message;
  }
  return String(err);
}
