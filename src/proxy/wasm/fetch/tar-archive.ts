// Reading the files out of an (optionally gzipped) tar archive held in memory: enough of ustar, pax
// (`path` records) and GNU long names (`L` entries) to find `plugin.wasm` in an image layer, as the
// solo-io "compat" wasm image spec puts it (github.com/solo-io/wasm/blob/master/spec/spec-compat.md).
// Headers are 512-byte blocks: name at 0 (100 bytes), size at 124 (12, octal or base-256), type at 156,
// ustar magic at 257, prefix at 345 (155). Data follows, padded to 512. Two zero blocks end the archive.

import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { ModuleFetchError } from './fetch-error.js';

const gunzipAsync = promisify(gunzip);
const BLOCK = 512;

export interface TarEntry {
  name: string;
  /** '0' regular file, '5' directory, … ('\0' is normalised to '0'). */
  type: string;
  data: Uint8Array;
}

export function isGzip(b: Uint8Array): boolean {
  return b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;
}

export function isTar(b: Uint8Array): boolean {
  return b.length > 262 && latin1(b, 257, 5) === 'ustar';
}

/** Gunzips with a cap on the output; TOO_LARGE when the archive inflates past `maxBytes`. */
export async function gunzipLimited(b: Uint8Array, maxBytes: number, what: string): Promise<Uint8Array> {
  try {
    const out = await gunzipAsync(b, { maxOutputLength: maxBytes });
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ModuleFetchError('TOO_LARGE', `${what} inflates to more than ${maxBytes} bytes`);
    }
    throw new ModuleFetchError('BAD_IMAGE', `${what} is not valid gzip: ${(err as Error).message}`);
  }
}

function latin1(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = off; i < off + len && i < b.length; i++) {
    const c = b[i] ?? 0;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

function utf8Field(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return Buffer.from(b.buffer, b.byteOffset + off, end - off).toString('utf8');
}

function parseSize(b: Uint8Array, off: number): number {
  const first = b[off] ?? 0;
  if (first & 0x80) {
    // GNU base-256: big-endian binary after the marker bit.
    let n = first & 0x7f;
    for (let i = 1; i < 12; i++) n = n * 256 + (b[off + i] ?? 0);
    return n;
  }
  const s = latin1(b, off, 12).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function paxPath(data: Uint8Array): string | undefined {
  // Records: "<len> <key>=<value>\n".
  const text = Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8');
  let i = 0;
  let path: string | undefined;
  while (i < text.length) {
    const sp = text.indexOf(' ', i);
    if (sp < 0) break;
    const len = parseInt(text.slice(i, sp), 10);
    if (!(len > 0)) break;
    const record = text.slice(sp + 1, i + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0 && record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    i += len;
  }
  return path;
}

/** Every entry of an uncompressed tar, pax and GNU long-name records folded into the next entry's name. */
export function* tarEntries(b: Uint8Array): Generator<TarEntry> {
  let off = 0;
  let longName: string | undefined;
  while (off + BLOCK <= b.length) {
    const header = b.subarray(off, off + BLOCK);
    if (header.every((x) => x === 0)) return;
    const size = parseSize(header, 124);
    if (!Number.isSafeInteger(size) || size < 0) throw new ModuleFetchError('BAD_IMAGE', 'tar header has an invalid size');
    let type = String.fromCharCode(header[156] ?? 0);
    if (type === '\0') type = '0';
    const dataStart = off + BLOCK;
    if (dataStart + size > b.length) throw new ModuleFetchError('BAD_IMAGE', 'tar archive is truncated');
    const data = b.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === 'L') {
      longName = utf8Field(data, 0, data.length);
      continue;
    }
    if (type === 'g') continue;
    let name = utf8Field(header, 0, 100);
    if (latin1(header, 257, 5) === 'ustar') {
      const prefix = utf8Field(header, 345, 155);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    if (longName !== undefined) {
      name = longName;
      longName = undefined;
    }
    yield { name, type, data };
  }
}

/** The regular file whose base name is `base` (`plugin.wasm`), or undefined. */
export function findFile(tar: Uint8Array, base: string): Uint8Array | undefined {
  for (const e of tarEntries(tar)) {
    if (e.type !== '0' && e.type !== '7') continue;
    const name = e.name.replace(/\/+$/, '');
    if (name === base || name.endsWith(`/${base}`)) return e.data;
  }
  return undefined;
}

/** The first regular file of a tar, or undefined. */
export function firstFile(tar: Uint8Array): Uint8Array | undefined {
  for (const e of tarEntries(tar)) if (e.type === '0' || e.type === '7') return e.data;
  return undefined;
}
