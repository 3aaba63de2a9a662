// Reads the signatures of a module's function imports from its bytes (type and import sections), which
// WebAssembly.Module.imports() does not report. The host uses them to shape stubs for imports it does not
// implement (a stub must return the declared result type: an i64 result needs a BigInt) and to adapt
// known hostcalls declared with a different arity (AssemblyScript proxy-runtime 0.1.8 declares
// proxy_grpc_call/proxy_grpc_stream without the initial-metadata pair). Best effort: anything it cannot
// parse (e.g. GC-proposal type sections) yields undefined and the host falls back to i32 stubs.

import { ByteReader, WasmFormatError, skipValType } from './wasm-binary.js';

export type WasmValType = 'i32' | 'i64' | 'f32' | 'f64' | 'other';

export interface FuncSignature {
  readonly params: readonly WasmValType[];
  readonly results: readonly WasmValType[];
}

/** `module.name` -> signature, for function imports. */
export type ImportSignatures = ReadonlyMap<string, FuncSignature>;

function valType(r: ByteReader): WasmValType {
  const b = r.bytes[r.pos];
  switch (b) {
    case 0x7f: r.pos++; return 'i32';
    case 0x7e: r.pos++; return 'i64';
    case 0x7d: r.pos++; return 'f32';
    case 0x7c: r.pos++; return 'f64';
    default: skipValType(r); return 'other';
  }
}

function skipLimits(r: ByteReader): void {
  const flags = r.u8();
  const wide = (flags & 0x04) !== 0;
  if (wide) r.u64(); else r.u32();
  if ((flags & 0x01) !== 0) {
    if (wide) r.u64(); else r.u32();
  }
}

export function readImportSignatures(bytes: Uint8Array): ImportSignatures | undefined {
  try {
    const r = new ByteReader(bytes, 8, bytes.byteLength);
    const types: FuncSignature[] = [];
    const out = new Map<string, FuncSignature>();
    while (!r.atEnd) {
      const id = r.u8();
      const size = r.u32();
      const end = r.pos + size;
      if (id === 1) {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          if (r.u8() !== 0x60) return undefined;
          const params = Array.from({ length: r.u32() }, () => valType(r));
          const results = Array.from({ length: r.u32() }, () => valType(r));
          types.push({ params, results });
        }
      } else if (id === 2) {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const module = r.name();
          const name = r.name();
          const kind = r.u8();
          if (kind === 0x00) {
            const sig = types[r.u32()];
            if (sig !== undefined) out.set(`${module}.${name}`, sig);
          } else if (kind === 0x01) {
            skipValType(r);
            skipLimits(r);
          } else if (kind === 0x02) {
            skipLimits(r);
          } else if (kind === 0x03) {
            skipValType(r);
            r.u8();
          } else if (kind === 0x04) {
            r.u8();
            r.u32();
          } else return undefined;
        }
        return out;
      }
      r.pos = end;
      if (id > 2 && id !== 0) return out;
    }
    return out;
  } catch (e) {
    if (e instanceof WasmFormatError) return undefined;
    throw e;
  }
}
