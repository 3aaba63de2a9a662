// WebAssembly binary format primitives for the module rewriter (instrument.ts): a bounds-checked
// byte reader, a growable byte writer, the module's section layout and limits, and an instruction
// decoder that knows the immediates of every opcode so a code body can be walked exactly. It owns
// no policy: it never decides what to rewrite.
//
// Source of truth: the WebAssembly core specification, binary format
// (https://webassembly.github.io/spec/core/binary/instructions.html and .../binary/modules.html,
// opcode index: https://webassembly.github.io/spec/core/appendix/index-instructions.html), plus the
// proposal overviews for threads (0xFE), tail calls (0x12/0x13), exception handling (legacy
// try/catch 0x06-0x09/0x18/0x19 and try_table 0x1F/throw_ref 0x0A), typed function references and
// relaxed SIMD (0xFD 0x100-0x113). Malformed input throws WasmFormatError; callers add context.

/** A malformed or unsupported module; the message says what and where. */
export class WasmFormatError extends Error {
  override readonly name = 'WasmFormatError';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Reads from `bytes[pos, end)`; every read is bounds-checked. Fields are public for speed. */
export class ByteReader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    public end: number,
  ) {}

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new WasmFormatError(`unexpected end of data at offset ${hex(this.pos)}`);
    return this.bytes[this.pos++] as number;
  }

  /** Unsigned LEB128, at most 5 bytes. */
  u32(): number {
    const start = this.pos;
    if (start < this.end) {
      const b0 = this.bytes[start] as number;
      if (b0 < 0x80) {
        this.pos = start + 1;
        return b0;
      }
    }
    let result = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = this.u8();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
    }
    const last = this.u8();
    if (last > 0x0f) throw new WasmFormatError(`malformed u32 LEB128 at offset ${hex(start)}`);
    return (result >>> 0) + last * 2 ** 28;
  }

  /** Unsigned LEB128 up to 10 bytes as a number (exact below 2^53; used for memory64 limits). */
  u64(): number {
    const start = this.pos;
    let result = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new WasmFormatError(`malformed u64 LEB128 at offset ${hex(start)}`);
  }

  /** Skips a (signed or unsigned) LEB128 of at most `maxBytes` bytes. */
  skipLeb(maxBytes: number): void {
    const start = this.pos;
    for (let i = 0; i < maxBytes; i++) if ((this.u8() & 0x80) === 0) return;
    throw new WasmFormatError(`malformed LEB128 at offset ${hex(start)}`);
  }

  skip(n: number): void {
    if (n > this.end - this.pos) {
      throw new WasmFormatError(`unexpected end of data at offset ${hex(this.pos)} (need ${n} bytes)`);
    }
    this.pos += n;
  }

  /** A length-prefixed UTF-8 name. */
  name(): string {
    const len = this.u32();
    const start = this.pos;
    this.skip(len);
    try {
      return utf8.decode(this.bytes.subarray(start, start + len));
    } catch {
      throw new WasmFormatError(`malformed UTF-8 name at offset ${hex(start)}`);
    }
  }
}

/** An append-only byte buffer that doubles when full. `length` may be lowered to drop a tail. */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(64, capacity));
  }

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  u32(v: number): void {
    this.ensure(5);
    do {
      let b = v & 0x7f;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.buf[this.length++] = b;
    } while (v !== 0);
  }

  /** Unsigned LEB128 of a non-negative integer below 2^53. */
  u64(v: number): void {
    this.ensure(10);
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.buf[this.length++] = b;
    } while (v !== 0);
  }

  s32(v: number): void {
    this.ensure(5);
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      this.buf[this.length++] = done ? b : b | 0x80;
      if (done) return;
    }
  }

  /** Reserves a 5-byte u32 slot (a padded LEB128, valid per the spec) to be filled by patchU32. */
  reserveU32(): number {
    this.ensure(5);
    const at = this.length;
    this.length += 5;
    return at;
  }

  patchU32(at: number, v: number): void {
    for (let i = 0; i < 4; i++) {
      this.buf[at + i] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[at + 4] = v & 0x0f;
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    if (n <= 0) return;
    this.ensure(n);
    if (n > 64) {
      this.buf.set(src.subarray(start, end), this.length);
      this.length += n;
      return;
    }
    // Short runs (between two rewritten indices) are copied by hand: a subarray view per run would
    // be an allocation per call instruction.
    const buf = this.buf;
    let at = this.length;
    for (let i = start; i < end; i++) buf[at++] = src[i] as number;
    this.length = at;
  }

  name(s: string): void {
    const encoded = utf8Encoder.encode(s);
    this.u32(encoded.length);
    this.bytes(encoded);
  }

  /** A right-sized copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

// ---- types --------------------------------------------------------------------------------------

/** Skips a heap type: an abstract type (one negative byte) or a type index, both s33. */
export function skipHeapType(r: ByteReader): void {
  r.skipLeb(5);
}

/** Skips a value type: numeric, vector, abbreviated reference type, or `ref null? ht` (0x63/0x64). */
export function skipValType(r: ByteReader): void {
  const at = r.pos;
  const b = r.u8();
  if (b === 0x63 || b === 0x64) return skipHeapType(r);
  if ((b >= 0x7b && b <= 0x7f) || (b >= 0x69 && b <= 0x74)) return;
  throw new WasmFormatError(`unknown value type ${hex(b)} at offset ${hex(at)}`);
}

/** Block type: 0x40 (empty), a value type, or a type index as s33 (multi-value). */
function skipBlockType(r: ByteReader): void {
  const b = r.bytes[r.pos];
  if (b === 0x63 || b === 0x64) {
    r.pos++;
    return skipHeapType(r);
  }
  r.skipLeb(5);
}

/** memarg: align (bit 6 set means a memory index follows: multi-memory), then offset (u64 for memory64). */
function skipMemarg(r: ByteReader): void {
  const align = r.u32();
  if ((align & 0x40) !== 0) r.u32();
  r.skipLeb(10);
}


// ---- module structure ---------------------------------------------------------------------------

/** Section names by id (0-13); unknown ids are malformed. */
export const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export',
  'start', 'element', 'code', 'data', 'datacount', 'tag'] as const;
/** Required relative order of non-custom sections by id (the tag section, 13, sits between memory and global). */
export const SECTION_ORDER = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6];
/** A section: id, where its header starts, and its payload [start, end). */
export interface Section { readonly id: number; readonly headerStart: number; readonly start: number; readonly end: number }

/** Checks the header and splits the module into sections, checking sizes and order. */
export function scanSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmFormatError('not a WebAssembly module (missing the \\0asm magic number)');
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new WasmFormatError('unsupported WebAssembly binary version (only core modules, version 1)');
  }
  const r = new ByteReader(bytes, 8, bytes.length);
  const out: Section[] = [];
  let lastRank = 0;
  while (!r.atEnd) {
    const headerStart = r.pos;
    const id = r.u8();
    if (id >= SECTION_NAMES.length) throw new WasmFormatError(`unknown section id ${id} at offset ${hex(headerStart)}`);
    const size = r.u32();
    const name = SECTION_NAMES[id] as string;
    if (size > r.end - r.pos) {
      throw new WasmFormatError(`${name} section at offset ${hex(headerStart)} declares ${size} bytes but only ` +
        `${r.end - r.pos} remain (truncated module?)`);
    }
    if (id !== 0) {
      const rank = SECTION_ORDER[id] as number;
      if (rank <= lastRank) throw new WasmFormatError(`${name} section at offset ${hex(headerStart)} is out of order or repeated`);
      lastRank = rank;
    }
    out.push({ id, headerStart, start: r.pos, end: r.pos + size });
    r.pos += size;
  }
  return out;
}

/** Memory limits in pages (memory64 values are exact below 2^53). */
export interface Limits {
  readonly minimumPages: number;
  readonly maximumPages?: number;
  readonly shared: boolean;
  readonly memory64: boolean;
}

/** limits: flags (bit 0: has maximum, bit 1: shared, bit 2: 64-bit), minimum, maximum? */
export function readLimits(r: ByteReader): Limits {
  const at = r.pos;
  const flags = r.u8();
  if (flags > 7) throw new WasmFormatError(`unsupported limits flags ${hex(flags)} at offset ${hex(at)}`);
  const memory64 = (flags & 4) !== 0;
  const minimumPages = memory64 ? r.u64() : r.u32();
  const shared = (flags & 2) !== 0;
  if ((flags & 1) === 0) return { minimumPages, shared, memory64 };
  return { minimumPages, maximumPages: memory64 ? r.u64() : r.u32(), shared, memory64 };
}

// ---- instructions -------------------------------------------------------------------------------

/** What the caller must know about the instruction just decoded. */
export const INSTR_OTHER = 0;
/** call, return_call or ref.func: the reader stops right BEFORE the function index (u32). */
export const INSTR_FUNC_INDEX = 1;
/** loop: the reader is past the block type, i.e. at the first instruction of the loop body. */
export const INSTR_LOOP = 2;
/** block, if, try, try_table: opens a nesting level. */
export const INSTR_BLOCK = 3;
/** end, or delegate (which closes a legacy `try` in place of an end): closes a nesting level. */
export const INSTR_END = 4;
export type InstrKind = 0 | 1 | 2 | 3 | 4;

// Immediate classes for single-byte opcodes; 0 = unknown opcode.
const I_NONE = 1, I_BLOCK = 2, I_LOOP = 3, I_U32 = 4, I_U32X2 = 5, I_BR_TABLE = 6, I_FUNC = 7;
const I_MEMARG = 8, I_S32 = 9, I_S64 = 10, I_F32 = 11, I_F64 = 12, I_SELECT_T = 13, I_HEAPTYPE = 14;
const I_TRY_TABLE = 15, I_FC = 16, I_FD = 17, I_FE = 18, I_END = 19, I_DELEGATE = 20;

function table(size: number, entries: ReadonlyArray<readonly [number, number, number]>): Uint8Array {
  const t = new Uint8Array(size);
  for (const [from, to, cls] of entries) t.fill(cls, from, to + 1);
  return t;
}

const OPCODES = table(256, [
  [0x00, 0x01, I_NONE], // unreachable, nop
  [0x02, 0x02, I_BLOCK], [0x03, 0x03, I_LOOP], [0x04, 0x04, I_BLOCK], [0x05, 0x05, I_NONE], // block loop if else
  [0x06, 0x06, I_BLOCK], // try (legacy exception handling)
  [0x07, 0x09, I_U32], // catch tag, throw tag, rethrow label
  [0x0a, 0x0a, I_NONE], // throw_ref
  [0x0b, 0x0b, I_END],
  [0x0c, 0x0d, I_U32], [0x0e, 0x0e, I_BR_TABLE], [0x0f, 0x0f, I_NONE], // br br_if br_table return
  [0x10, 0x10, I_FUNC], [0x11, 0x11, I_U32X2], // call, call_indirect type table
  [0x12, 0x12, I_FUNC], [0x13, 0x13, I_U32X2], // return_call, return_call_indirect
  [0x14, 0x15, I_U32], // call_ref, return_call_ref (type index)
  [0x18, 0x18, I_DELEGATE], [0x19, 0x19, I_NONE], // delegate label, catch_all
  [0x1a, 0x1b, I_NONE], [0x1c, 0x1c, I_SELECT_T], // drop, select, select t*
  [0x1f, 0x1f, I_TRY_TABLE],
  [0x20, 0x26, I_U32], // local.get/set/tee, global.get/set, table.get/set
  [0x28, 0x3e, I_MEMARG], // loads and stores
  [0x3f, 0x40, I_U32], // memory.size, memory.grow (memory index)
  [0x41, 0x41, I_S32], [0x42, 0x42, I_S64], [0x43, 0x43, I_F32], [0x44, 0x44, I_F64],
  [0x45, 0xc4, I_NONE], // numeric, including sign extension 0xc0-0xc4
  [0xd0, 0xd0, I_HEAPTYPE], [0xd1, 0xd1, I_NONE], [0xd2, 0xd2, I_FUNC], // ref.null, ref.is_null, ref.func
  [0xd3, 0xd3, I_NONE], [0xd4, 0xd4, I_U32], [0xd5, 0xd5, I_NONE], [0xd6, 0xd6, I_U32], // typed refs
  [0xfc, 0xfc, I_FC], [0xfd, 0xfd, I_FD], [0xfe, 0xfe, I_FE],
]);

// 0xFD (SIMD) sub-opcodes; 0 = unassigned.
const V_NONE = 1, V_MEMARG = 2, V_MEMARG_LANE = 3, V_LANE = 4, V_BYTES16 = 5;
const SIMD = table(0x114, [
  [0x00, 0x0b, V_MEMARG], // v128.load*, v128.store
  [0x0c, 0x0d, V_BYTES16], // v128.const, i8x16.shuffle
  [0x0e, 0x14, V_NONE], // swizzle, splats
  [0x15, 0x22, V_LANE], // extract_lane / replace_lane
  [0x23, 0x53, V_NONE],
  [0x54, 0x5b, V_MEMARG_LANE], // v128.load*_lane, v128.store*_lane
  [0x5c, 0x5d, V_MEMARG], // v128.load32_zero, v128.load64_zero
  [0x5e, 0xff, V_NONE],
  [0x100, 0x113, V_NONE], // relaxed SIMD
]);
for (const gap of [0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0,
  0xd2, 0xd3, 0xd4, 0xe2, 0xee]) SIMD[gap] = 0;

/**
 * Decodes one instruction at `r.pos` and skips its immediates, except that for call, return_call
 * and ref.func it stops before the function index (INSTR_FUNC_INDEX) so the caller can rewrite it.
 */
export function decodeInstruction(r: ByteReader): InstrKind {
  const at = r.pos;
  // Fast path for the bulk of real code (numeric ops, local/global access, small constants,
  // loads/stores with small memargs): no method calls, no LEB loop. Anything else, including any
  // immediate that would cross r.end, takes the checked path below.
  const bytes = r.bytes;
  if (at + 3 <= r.end) {
    const cls = OPCODES[bytes[at] as number];
    if (cls === I_NONE) { r.pos = at + 1; return INSTR_OTHER; }
    if (cls === I_U32 || cls === I_S32) {
      if ((bytes[at + 1] as number) < 0x80) { r.pos = at + 2; return INSTR_OTHER; }
    } else if (cls === I_MEMARG) {
      if ((bytes[at + 1] as number) < 0x40 && (bytes[at + 2] as number) < 0x80) { r.pos = at + 3; return INSTR_OTHER; }
    } else if (cls === I_END) { r.pos = at + 1; return INSTR_END; }
  }
  const op = r.u8();
  switch (OPCODES[op]) {
    case I_NONE: return INSTR_OTHER;
    case I_END: return INSTR_END;
    case I_DELEGATE: r.u32(); return INSTR_END;
    case I_BLOCK: skipBlockType(r); return INSTR_BLOCK;
    case I_LOOP: skipBlockType(r); return INSTR_LOOP;
    case I_FUNC: return INSTR_FUNC_INDEX;
    case I_U32: r.u32(); return INSTR_OTHER;
    case I_U32X2: r.u32(); r.u32(); return INSTR_OTHER;
    case I_MEMARG: skipMemarg(r); return INSTR_OTHER;
    case I_S32: r.skipLeb(5); return INSTR_OTHER;
    case I_S64: r.skipLeb(10); return INSTR_OTHER;
    case I_F32: r.skip(4); return INSTR_OTHER;
    case I_F64: r.skip(8); return INSTR_OTHER;
    case I_HEAPTYPE: skipHeapType(r); return INSTR_OTHER;
    case I_BR_TABLE: {
      for (let n = r.u32(); n > 0; n--) r.u32();
      r.u32(); // default label
      return INSTR_OTHER;
    }
    case I_SELECT_T: {
      for (let n = r.u32(); n > 0; n--) skipValType(r);
      return INSTR_OTHER;
    }
    case I_TRY_TABLE: {
      skipBlockType(r);
      for (let n = r.u32(); n > 0; n--) {
        const kind = r.u8();
        if (kind > 3) throw new WasmFormatError(`unknown try_table catch kind ${hex(kind)} at offset ${hex(at)}`);
        if (kind <= 1) r.u32(); // catch / catch_ref carry a tag index
        r.u32(); // label
      }
      return INSTR_BLOCK;
    }
    case I_FC: return decodeFc(r, at);
    case I_FD: return decodeFd(r, at);
    case I_FE: return decodeFe(r, at);
    default: throw new WasmFormatError(`unknown opcode ${hex(op)} at offset ${hex(at)}`);
  }
}

/** 0xFC: saturating truncation (0-7), bulk memory and table instructions (8-17). */
function decodeFc(r: ByteReader, at: number): InstrKind {
  const sub = r.u32();
  if (sub <= 7) return INSTR_OTHER;
  switch (sub) {
    case 8: // memory.init data mem
    case 10: // memory.copy mem mem
    case 12: // table.init elem table
    case 14: // table.copy table table
      r.u32(); r.u32(); return INSTR_OTHER;
    case 9: // data.drop
    case 11: // memory.fill
    case 13: // elem.drop
    case 15: // table.grow
    case 16: // table.size
    case 17: // table.fill
      r.u32(); return INSTR_OTHER;
    default: throw new WasmFormatError(`unknown opcode 0xfc ${hex(sub)} at offset ${hex(at)}`);
  }
}

function decodeFd(r: ByteReader, at: number): InstrKind {
  const sub = r.u32();
  switch (sub < SIMD.length ? SIMD[sub] : 0) {
    case V_NONE: return INSTR_OTHER;
    case V_MEMARG: skipMemarg(r); return INSTR_OTHER;
    case V_MEMARG_LANE: skipMemarg(r); r.skip(1); return INSTR_OTHER;
    case V_LANE: r.skip(1); return INSTR_OTHER;
    case V_BYTES16: r.skip(16); return INSTR_OTHER;
    default: throw new WasmFormatError(`unknown opcode 0xfd ${hex(sub)} at offset ${hex(at)}`);
  }
}

/** 0xFE (threads): notify/wait (0x00-0x02), fence (0x03, one reserved byte), atomics (0x10-0x4e). */
function decodeFe(r: ByteReader, at: number): InstrKind {
  const sub = r.u32();
  if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) {
    skipMemarg(r);
    return INSTR_OTHER;
  }
  if (sub === 0x03) {
    r.skip(1);
    return INSTR_OTHER;
  }
  throw new WasmFormatError(`unknown opcode 0xfe ${hex(sub)} at offset ${hex(at)}`);
}

export { hex };
