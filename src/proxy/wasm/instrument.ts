// Sandbox rewriting of a plugin module before it is compiled: bounds CPU time and linear memory.
// V8 cannot interrupt a running wasm call from the thread that runs it, so a plugin stuck in a loop
// would hang the proxy's event loop (Envoy has the same hole: envoy#14126). Like Wasmtime's fuel, we
// rewrite the module so that it counts down a budget in an exported mutable global (`isthmus_fuel`)
// at every function entry and loop header, and calls an injected host import
// (`isthmus.fuel_exhausted`) when the budget reaches zero. The host refills the global before each
// callback and, in that import, checks elapsed CPU time and refills or throws (the throw unwinds the
// wasm as a trap). Defined memories get a maximum of at most `maxMemoryPages`.
// This file owns the policy of the rewrite; wasm-binary.ts owns the encoding. It does not compile,
// instantiate or run anything except the final WebAssembly.validate.

import {
  ByteReader,
  ByteWriter,
  INSTR_BLOCK,
  INSTR_END,
  INSTR_FUNC_INDEX,
  INSTR_LOOP,
  SECTION_NAMES,
  SECTION_ORDER,
  WasmFormatError,
  decodeInstruction,
  hex,
  readLimits,
  scanSections,
  skipValType,
} from './wasm-binary.js';
import type { Limits, Section } from './wasm-binary.js';

/** The host function the rewritten module imports: `() -> ()`, called when `isthmus_fuel` hits 0. */
export const FUEL_IMPORT = { module: 'isthmus', name: 'fuel_exhausted' } as const;
/** The exported mutable i32 global holding the remaining budget (decremented once per check). */
export const FUEL_GLOBAL_EXPORT = 'isthmus_fuel';
/**
 * Initial value of the fuel global. It only matters for code that runs during instantiation (the
 * start function), before the host can reach the exported global: after that many checks the host's
 * fuel_exhausted is called once and may throw; if it returns, the counter wraps and is not checked
 * again for about 2^32 checks.
 */
export const DEFAULT_INITIAL_FUEL = 10_000_000;

export interface InstrumentOptions {
  /** Cap for every defined memory's maximum, in 64 KiB pages (0..65536). */
  readonly maxMemoryPages: number;
  /** Initial value of the fuel global (see DEFAULT_INITIAL_FUEL); 1..2^31-1. */
  readonly initialFuel?: number;
}

/** maximumPages: for a defined memory, after capping; for an imported one, as declared. */
export interface MemoryLimits extends Limits {
  /** Index in the memory index space (imported memories first). */
  readonly index: number;
  /** Set for an imported memory: the host must create it (within the cap); it is not rewritten. */
  readonly imported?: { readonly module: string; readonly name: string };
}

export interface InstrumentInfo {
  /** Function index of the injected fuel_exhausted import (= number of original function imports). */
  readonly fuelImportIndex: number;
  /** Global index of the fuel global (= number of original globals, imported and defined). */
  readonly fuelGlobalIndex: number;
  /** Defined functions, each of which got an entry check. */
  readonly functions: number;
  /** Loop headers that got a check. */
  readonly loopChecks: number;
  readonly memories: readonly MemoryLimits[];
}

export type InstrumentResult =
  | { readonly ok: true; readonly bytes: Uint8Array; readonly info: InstrumentInfo }
  | { readonly ok: false; readonly error: string };

const S_TYPE = 1, S_IMPORT = 2, S_TABLE = 4, S_MEMORY = 5, S_GLOBAL = 6, S_EXPORT = 7, S_START = 8;
const S_ELEMENT = 9, S_CODE = 10;
/** Sections the rewrite needs; synthesized when the module has none. */
const REQUIRED = [S_TYPE, S_IMPORT, S_GLOBAL, S_EXPORT] as const;

interface Ctx {
  readonly bytes: Uint8Array;
  readonly w: ByteWriter;
  readonly maxPages: number;
  readonly initialFuel: number;
  /** Original function imports: function indices at or above this move up by one. */
  importedFuncs: number;
  importedGlobals: number;
  definedFuncs: number;
  definedGlobals: number;
  /** Index of an existing `() -> ()` type, or -1 (then one is appended). */
  voidType: number;
  memories: MemoryLimits[];
  /** Input bytes from here up to the reader's position are still to be copied to the output. */
  mark: number;
  check: Uint8Array;
  loopChecks: number;
}

export function instrumentModule(bytes: Uint8Array, opts: InstrumentOptions): InstrumentResult {
  const { maxMemoryPages, initialFuel = DEFAULT_INITIAL_FUEL } = opts;
  if (!Number.isInteger(maxMemoryPages) || maxMemoryPages < 0 || maxMemoryPages > 65536) {
    return { ok: false, error: `maxMemoryPages must be an integer in 0..65536, got ${maxMemoryPages}` };
  }
  if (!Number.isInteger(initialFuel) || initialFuel < 1 || initialFuel > 0x7fffffff) {
    return { ok: false, error: `initialFuel must be an integer in 1..2147483647, got ${initialFuel}` };
  }
  const c: Ctx = {
    bytes, w: new ByteWriter(bytes.length + (bytes.length >> 3) + 256), maxPages: maxMemoryPages, initialFuel,
    importedFuncs: 0, importedGlobals: 0, definedFuncs: 0, definedGlobals: 0, voidType: -1,
    memories: [], mark: 0, check: new Uint8Array(0), loopChecks: 0,
  };
  try {
    const sections = scanSections(bytes);
    for (const s of sections) inspect(c, s);
    c.check = checkSequence(c.importedGlobals + c.definedGlobals, c.importedFuncs);
    emitModule(c, sections);
  } catch (e) {
    if (e instanceof WasmFormatError) return { ok: false, error: e.message };
    throw e;
  }
  const out = c.w.finish();
  if (!WebAssembly.validate(out)) return { ok: false, error: explainInvalid(bytes) };
  return {
    ok: true,
    bytes: out,
    info: {
      fuelImportIndex: c.importedFuncs, fuelGlobalIndex: c.importedGlobals + c.definedGlobals,
      functions: c.definedFuncs, loopChecks: c.loopChecks, memories: c.memories,
    },
  };
}

/** Only reached on failure: compiles the original to get V8's reason. */
function explainInvalid(original: Uint8Array): string {
  try {
    new WebAssembly.Module(original);
  } catch (e) {
    return `invalid module: ${e instanceof Error ? e.message : String(e)}`;
  }
  return 'internal error: the instrumented module does not validate (please report this module)';
}

// `global.get $fuel; i32.const 1; i32.sub; global.set $fuel; global.get $fuel; i32.eqz;
//  if; call $fuel_exhausted; end`. Wasm has no `global.tee`, hence the second global.get; a scratch
// local would save it but needs a local declared in every function. Stack-neutral, so it is valid at
// any loop header, whatever the loop's parameters.
function checkSequence(fuelGlobal: number, fuelFunc: number): Uint8Array {
  const w = new ByteWriter(32);
  w.byte(0x23); w.u32(fuelGlobal);
  w.byte(0x41); w.byte(0x01); w.byte(0x6b);
  w.byte(0x24); w.u32(fuelGlobal);
  w.byte(0x23); w.u32(fuelGlobal);
  w.byte(0x45); w.byte(0x04); w.byte(0x40);
  w.byte(0x10); w.u32(fuelFunc);
  w.byte(0x0b);
  return w.finish();
}

function sectionError(s: Section, e: unknown): unknown {
  return e instanceof WasmFormatError ? new WasmFormatError(`${SECTION_NAMES[s.id]} section: ${e.message}`) : e;
}

/** First pass: the counts and indices the rewrite depends on. */
function inspect(c: Ctx, s: Section): void {
  const r = new ByteReader(c.bytes, s.start, s.end);
  try {
    switch (s.id) {
      case S_TYPE: {
        for (let i = 0, n = r.u32(); i < n; i++) {
          const form = r.u8();
          if (form !== 0x60) throw new WasmFormatError(`type ${i}: unsupported type form ${hex(form)}`);
          const params = r.u32();
          for (let n = params; n > 0; n--) skipValType(r);
          const results = r.u32();
          for (let n = results; n > 0; n--) skipValType(r);
          if (params === 0 && results === 0 && c.voidType < 0) c.voidType = i;
        }
        return;
      }
      case S_IMPORT: {
        for (let i = 0, n = r.u32(); i < n; i++) {
          const module = r.name();
          const name = r.name();
          if (module === FUEL_IMPORT.module && name === FUEL_IMPORT.name) {
            throw new WasmFormatError(`import ${i}: the module already imports ${module}.${name} (instrumented twice?)`);
          }
          const kind = r.u8();
          if (kind === 0) { r.u32(); c.importedFuncs++; }
          else if (kind === 1) { skipValType(r); readLimits(r); }
          else if (kind === 2) {
            const l = readLimits(r);
            c.memories.push({ index: c.memories.length, imported: { module, name }, ...l });
          } else if (kind === 3) { skipValType(r); r.u8(); c.importedGlobals++; }
          else if (kind === 4) { r.u8(); r.u32(); }
          else throw new WasmFormatError(`import ${i}: unknown import kind ${hex(kind)}`);
        }
        return;
      }
      case 3: c.definedFuncs = r.u32(); return;
      case S_GLOBAL: c.definedGlobals = r.u32(); return;
      default: return;
    }
  } catch (e) {
    throw sectionError(s, e);
  }
}

function emitModule(c: Ctx, sections: readonly Section[]): void {
  c.w.bytes(c.bytes, 0, 8);
  const missing = new Set<number>(REQUIRED.filter((id) => !sections.some((s) => s.id === id)));
  const emitMissingBefore = (rank: number): void => {
    for (const id of REQUIRED) {
      if (missing.has(id) && (SECTION_ORDER[id] as number) < rank) { missing.delete(id); synthesize(c, id); }
    }
  };
  for (const s of sections) {
    if (s.id !== 0) emitMissingBefore(SECTION_ORDER[s.id] as number);
    try {
      emitSection(c, s);
    } catch (e) {
      throw sectionError(s, e);
    }
  }
  emitMissingBefore(Infinity);
}

function synthesize(c: Ctx, id: number): void {
  const w = c.w;
  w.byte(id);
  const slot = w.reserveU32();
  w.u32(1);
  if (id === S_TYPE) { c.voidType = 0; writeVoidType(w); }
  else if (id === S_IMPORT) writeFuelImport(c);
  else if (id === S_GLOBAL) writeFuelGlobal(c);
  else writeFuelExport(c);
  w.patchU32(slot, w.length - slot - 5);
}

function writeVoidType(w: ByteWriter): void {
  w.byte(0x60); w.byte(0); w.byte(0);
}
function writeFuelImport(c: Ctx): void {
  c.w.name(FUEL_IMPORT.module); c.w.name(FUEL_IMPORT.name); c.w.byte(0x00); c.w.u32(c.voidType);
}
function writeFuelGlobal(c: Ctx): void {
  c.w.byte(0x7f); c.w.byte(0x01); c.w.byte(0x41); c.w.s32(c.initialFuel); c.w.byte(0x0b);
}
function writeFuelExport(c: Ctx): void {
  c.w.name(FUEL_GLOBAL_EXPORT); c.w.byte(0x03); c.w.u32(c.importedGlobals + c.definedGlobals);
}

/** Copies input bytes [mark, upTo) to the output. */
function flush(c: Ctx, upTo: number): void {
  c.w.bytes(c.bytes, c.mark, upTo);
  c.mark = upTo;
}

/** Reads a function index at r.pos and, if it names a defined function, writes it shifted by one. */
function remapFunc(c: Ctx, r: ByteReader): void {
  const at = r.pos;
  const f = r.u32();
  if (f < c.importedFuncs) return;
  flush(c, at);
  c.w.u32(f + 1);
  c.mark = r.pos;
}

/** Reads a vector count and writes it plus one (for sections the rewrite appends an entry to). */
function bumpCount(c: Ctx, r: ByteReader): number {
  const at = r.pos;
  const n = r.u32();
  flush(c, at);
  c.w.u32(n + 1);
  c.mark = r.pos;
  return n;
}

/**
 * Walks an expression up to its final `end`, remapping function indices; with `checks`, inserts the
 * fuel check at the start of every loop body.
 */
function walkExpr(c: Ctx, r: ByteReader, checks: boolean): void {
  let depth = 0;
  for (;;) {
    switch (decodeInstruction(r)) {
      case INSTR_FUNC_INDEX: remapFunc(c, r); break;
      case INSTR_BLOCK: depth++; break;
      case INSTR_LOOP:
        depth++;
        if (checks) { flush(c, r.pos); c.w.bytes(c.check); c.loopChecks++; }
        break;
      case INSTR_END: if (depth-- === 0) return; break;
      default: break;
    }
  }
}

function skipLimits(r: ByteReader): void {
  readLimits(r);
}

function emitSection(c: Ctx, s: Section): void {
  const { w, bytes } = c;
  const r = new ByteReader(bytes, s.start, s.end);
  const verbatim = (): void => w.bytes(bytes, s.headerStart, s.end);
  if (s.id === 0) {
    if (r.name() !== 'name') return verbatim();
    const saved = w.length;
    try {
      return rewriteSection(c, s, () => rewriteNames(c, r));
    } catch {
      w.length = saved; // malformed debug names are dropped, as engines ignore them
      return;
    }
  }
  switch (s.id) {
    case S_TYPE:
      if (c.voidType >= 0) return verbatim();
      return rewriteSection(c, s, () => {
        c.voidType = bumpCount(c, r);
        flush(c, s.end);
        writeVoidType(w);
      });
    case S_IMPORT:
      return rewriteSection(c, s, () => { bumpCount(c, r); flush(c, s.end); writeFuelImport(c); });
    case S_TABLE:
      return rewriteSection(c, s, () => {
        for (let n = r.u32(); n > 0; n--) {
          const init = r.bytes[r.pos] === 0x40; // table with an initializer expression
          if (init) r.skip(2);
          skipValType(r);
          skipLimits(r);
          if (init) walkExpr(c, r, false);
        }
      });
    case S_MEMORY:
      return rewriteSection(c, s, () => {
        for (let n = r.u32(); n > 0; n--) capMemory(c, r);
      });
    case S_GLOBAL:
      return rewriteSection(c, s, () => {
        for (let n = bumpCount(c, r); n > 0; n--) { skipValType(r); r.u8(); walkExpr(c, r, false); }
        flush(c, s.end);
        writeFuelGlobal(c);
      });
    case S_EXPORT:
      return rewriteSection(c, s, () => {
        for (let i = 0, n = bumpCount(c, r); i < n; i++) {
          if (r.name() === FUEL_GLOBAL_EXPORT) throw new WasmFormatError(`export ${i}: the name ${FUEL_GLOBAL_EXPORT} is reserved`);
          if (r.u8() === 0) remapFunc(c, r); else r.u32();
        }
        flush(c, s.end);
        writeFuelExport(c);
      });
    case S_START:
      return rewriteSection(c, s, () => remapFunc(c, r));
    case S_ELEMENT:
      return rewriteSection(c, s, () => {
        for (let i = 0, n = r.u32(); i < n; i++) rewriteElement(c, r, i);
      });
    case S_CODE:
      return rewriteSection(c, s, () => {
        const n = r.u32();
        if (n !== c.definedFuncs) throw new WasmFormatError(`${n} bodies for ${c.definedFuncs} declared functions`);
        for (let i = 0; i < n; i++) rewriteBody(c, r, c.importedFuncs + i);
      });
    default: // function, data, datacount, tag: nothing refers to function indices
      return verbatim();
  }
}

/** Re-emits a section whose size may change: header, rewritten payload, patched size. */
function rewriteSection(c: Ctx, s: Section, body: () => void): void {
  const w = c.w;
  w.byte(s.id);
  const slot = w.reserveU32();
  c.mark = s.start;
  body();
  flush(c, s.end);
  w.patchU32(slot, w.length - slot - 5);
}

function capMemory(c: Ctx, r: ByteReader): void {
  const index = c.memories.length;
  const at = r.pos;
  const l = readLimits(r);
  if (l.minimumPages > c.maxPages) {
    throw new WasmFormatError(`memory ${index}: minimum ${l.minimumPages} pages exceeds the limit of ${c.maxPages} pages`);
  }
  const maximumPages = Math.min(l.maximumPages ?? c.maxPages, c.maxPages);
  flush(c, at);
  const w = c.w;
  w.byte((l.shared ? 2 : 0) | (l.memory64 ? 4 : 0) | 1);
  if (l.memory64) { w.u64(l.minimumPages); w.u64(maximumPages); } else { w.u32(l.minimumPages); w.u32(maximumPages); }
  c.mark = r.pos;
  c.memories.push({ index, minimumPages: l.minimumPages, maximumPages, shared: l.shared, memory64: l.memory64 });
}

/**
 * Element segment encodings 0-7 (spec 5.5.12): bit 0 passive/declarative, bit 1 explicit table index
 * (active) or declarative, bit 2 expressions instead of function indices.
 */
function rewriteElement(c: Ctx, r: ByteReader, i: number): void {
  const flags = r.u32();
  if (flags > 7) throw new WasmFormatError(`element segment ${i}: unknown encoding ${flags}`);
  if ((flags & 3) === 2) r.u32(); // table index
  if ((flags & 1) === 0) walkExpr(c, r, false); // offset of an active segment
  if ((flags & 4) === 0) {
    if ((flags & 3) !== 0) r.u8(); // elemkind
    for (let n = r.u32(); n > 0; n--) remapFunc(c, r);
  } else {
    if ((flags & 3) !== 0) skipValType(r); // reftype
    for (let n = r.u32(); n > 0; n--) walkExpr(c, r, false);
  }
}

function rewriteBody(c: Ctx, r: ByteReader, func: number): void {
  const w = c.w;
  const sectionEnd = r.end;
  const sizeAt = r.pos;
  try {
    const size = r.u32();
    const bodyEnd = r.pos + size;
    if (bodyEnd > sectionEnd) throw new WasmFormatError(`body size ${size} runs past the end of the section`);
    flush(c, sizeAt);
    const slot = w.reserveU32();
    c.mark = r.pos;
    r.end = bodyEnd;
    for (let n = r.u32(); n > 0; n--) { r.u32(); skipValType(r); } // locals
    flush(c, r.pos);
    w.bytes(c.check); // function entry
    walkExpr(c, r, true);
    if (r.pos !== bodyEnd) throw new WasmFormatError(`code continues after the final end at offset ${hex(r.pos)}`);
    flush(c, bodyEnd);
    w.patchU32(slot, w.length - slot - 5);
    r.end = sectionEnd;
  } catch (e) {
    throw e instanceof WasmFormatError ? new WasmFormatError(`function ${func}: ${e.message}`) : e;
  }
}

/** Name section (spec 7.4): function (1), local (2) and label (3) names are keyed by function index. */
function rewriteNames(c: Ctx, r: ByteReader): void {
  const sectionEnd = r.end;
  while (!r.atEnd) {
    const id = r.u8();
    const sizeAt = r.pos;
    const size = r.u32();
    const end = r.pos + size;
    if (end > sectionEnd) throw new WasmFormatError('name subsection runs past the end');
    if (id < 1 || id > 3) { r.pos = end; continue; }
    flush(c, sizeAt);
    const slot = c.w.reserveU32();
    c.mark = r.pos;
    r.end = end;
    for (let n = r.u32(); n > 0; n--) {
      remapFunc(c, r);
      if (id === 1) { r.skip(r.u32()); continue; }
      for (let m = r.u32(); m > 0; m--) { r.u32(); r.skip(r.u32()); }
    }
    if (r.pos !== end) throw new WasmFormatError('name subsection size mismatch');
    flush(c, end);
    c.w.patchU32(slot, c.w.length - slot - 5);
    r.end = sectionEnd;
  }
}
