// Behaviour of the sandbox rewrite: real modules (WAT compiled with wabt, and an AssemblyScript
// module) are instrumented, instantiated with a host that plays the proxy's part, and run.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import wabtInit from 'wabt';
import { FUEL_GLOBAL_EXPORT, FUEL_IMPORT, instrumentModule } from './instrument.js';
import type { InstrumentInfo, InstrumentOptions } from './instrument.js';
import { ByteReader, INSTR_END, INSTR_FUNC_INDEX, decodeInstruction } from './wasm-binary.js';

const wabt = await wabtInit();
const FEATURES = { bulk_memory: true, reference_types: true, simd: true, exceptions: true, tail_call: true, threads: true, multi_value: true };

function wat(src: string): Uint8Array {
  const m = wabt.parseWat('test.wat', src, FEATURES);
  try {
    return m.toBinary({ write_debug_names: true }).buffer;
  } finally {
    m.destroy();
  }
}

function instrument(bytes: Uint8Array, opts: Partial<InstrumentOptions> = {}): { bytes: Uint8Array; info: InstrumentInfo } {
  const res = instrumentModule(bytes, { maxMemoryPages: 16, ...opts });
  if (!res.ok) assert.fail(res.error);
  assert.ok(WebAssembly.validate(res.bytes));
  return res;
}

class BudgetExceeded extends Error {}
type Fn = (...args: unknown[]) => unknown;

/** Plays the proxy: sets the fuel before each call; refills `refills` times per call, then throws. */
async function run(bytes: Uint8Array, opts: { refills?: number; fuel?: number; imports?: WebAssembly.Imports } = {}) {
  const { refills = Infinity, fuel: amount = 1000 } = opts;
  const host = { exhausted: 0 };
  let fuel: WebAssembly.Global | undefined;
  const fuelExhausted = (): void => {
    host.exhausted++;
    if (fuel === undefined || host.exhausted > refills) throw new BudgetExceeded();
    fuel.value = amount;
  };
  const imports = { ...opts.imports, [FUEL_IMPORT.module]: { [FUEL_IMPORT.name]: fuelExhausted } };
  const { instance } = await WebAssembly.instantiate(bytes, imports);
  fuel = instance.exports[FUEL_GLOBAL_EXPORT] as WebAssembly.Global;
  const exports = instance.exports;
  const call = (name: string, ...args: unknown[]): unknown => {
    host.exhausted = 0;
    (fuel as WebAssembly.Global).value = amount;
    return (exports[name] as Fn)(...args);
  };
  return { call, exports, host };
}

describe('instrumentModule: CPU budget', () => {
  it('ends an infinite loop with the host\'s throw once the host stops refilling', async () => {
    const m = instrument(wat('(module (func (export "spin") (loop br 0)))'));
    assert.equal(m.info.loopChecks, 1);
    const { call, host } = await run(m.bytes, { refills: 3 });
    assert.throws(() => call('spin'), BudgetExceeded);
    assert.equal(host.exhausted, 4);
  });

  it('lets a loop of 1,000,000 iterations finish with the right result while the host refills', async () => {
    const m = instrument(wat(`(module (func (export "sum") (param $n i32) (result i64) (local $i i32) (local $s i64)
      (loop $l
        (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get $i))))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      (local.get $s)))`));
    const { call, host } = await run(m.bytes, { fuel: 10_000 });
    assert.equal(call('sum', 1_000_000), 499_999_500_000n);
    assert.ok(host.exhausted >= 99, `host was asked ${host.exhausted} times`);
  });

  it('stops a recursive function without loops (function-entry check)', async () => {
    const m = instrument(wat(`(module (func $fib (export "fib") (param i32) (result i32)
      (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))
        (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1))) (call $fib (i32.sub (local.get 0) (i32.const 2))))))))`));
    assert.equal(m.info.loopChecks, 0);
    const limited = await run(m.bytes, { refills: 5 });
    assert.throws(() => limited.call('fib', 40), BudgetExceeded);
    const unlimited = await run(m.bytes);
    assert.equal(unlimited.call('fib', 20), 6765);
  });

  it('bounds the start function by the initial fuel', async () => {
    const m = instrument(wat('(module (func $s (loop br 0)) (start $s))'), { initialFuel: 50 });
    let calls = 0;
    const imports = { isthmus: { fuel_exhausted: () => { calls++; throw new BudgetExceeded(); } } };
    await assert.rejects(WebAssembly.instantiate(m.bytes, imports), BudgetExceeded);
    assert.equal(calls, 1);
  });
});

const RENUMBER_WAT = `(module
  (import "env" "log" (func $log (param i32)))
  (type $ret (func (result i32)))
  (table $t 8 funcref)
  (global $started (mut i32) (i32.const 0))
  (global $g (export "gref") funcref (ref.func $seven))
  (elem (i32.const 0) $one $two $three)
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (func $three (result i32) (i32.const 3))
  (func $seven (result i32) (i32.const 7))
  (func $init (call $log (i32.const 42)) (global.set $started (i32.const 99)))
  (func (export "started") (result i32) (global.get $started))
  (func (export "dispatch") (param i32) (result i32) (call_indirect (type $ret) (local.get 0)))
  (func (export "direct") (result i32) (i32.add (call $two) (call $three)))
  (func (export "tail") (result i32) (return_call $three))
  (func (export "fref") (result funcref) (ref.func $seven))
  (func $boom (export "boom") (unreachable))
  (start $init))`;

describe('instrumentModule: renumbering', () => {
  it('keeps calls, call_indirect, exports, start, ref.func and funcref globals on their functions', async () => {
    const m = instrument(wat(RENUMBER_WAT));
    assert.equal(m.info.fuelImportIndex, 1);
    assert.equal(m.info.fuelGlobalIndex, 2);
    const logged: number[] = [];
    const { call, exports } = await run(m.bytes, { imports: { env: { log: (v: number) => { logged.push(v); } } } });
    assert.deepEqual(logged, [42]);
    assert.equal(call('started'), 99);
    assert.deepEqual([0, 1, 2].map((i) => call('dispatch', i)), [1, 2, 3]);
    assert.equal(call('direct'), 5);
    assert.equal(call('tail'), 3);
    assert.equal((call('fref') as Fn)(), 7);
    assert.equal(((exports.gref as WebAssembly.Global).value as Fn)(), 7);
  });

  it('moves the name section along, so stack traces name the right function', async () => {
    const { call } = await run(instrument(wat(RENUMBER_WAT)).bytes, { imports: { env: { log: () => {} } } });
    assert.throws(() => call('boom'), (e: Error) => /\bboom\b/.test(e.stack ?? ''));
  });

  it('rewrites all eight element segment encodings', async () => {
    const bytes = wat(`(module
      (table $t 8 funcref) (table $u 8 funcref)
      (func $f10 (result i32) (i32.const 10)) (func $f11 (result i32) (i32.const 11))
      (func $f12 (result i32) (i32.const 12)) (func $f13 (result i32) (i32.const 13))
      (func $f14 (result i32) (i32.const 14)) (func $f15 (result i32) (i32.const 15))
      (elem (i32.const 0) $f10)                                             ;; 0
      (elem $p1 func $f11)                                                  ;; 1
      (elem (table $u) (i32.const 0) func $f12)                             ;; 2
      (elem declare func $f13)                                              ;; 3
      (elem (i32.const 1) funcref (ref.null func) (ref.func $f14))          ;; 4
      (elem $p5 funcref (ref.null func) (ref.func $f15))                    ;; 5
      (elem (table $u) (i32.const 1) funcref (ref.null func) (ref.func $f10)) ;; 6
      (elem declare funcref (ref.null func) (ref.func $f11))                ;; 7
      (func (export "init") (table.init $t $p1 (i32.const 4) (i32.const 0) (i32.const 1))
        (table.init $t $p5 (i32.const 5) (i32.const 0) (i32.const 2)))
      (func (export "t") (param i32) (result i32) (call_indirect $t (result i32) (local.get 0)))
      (func (export "u") (param i32) (result i32) (call_indirect $u (result i32) (local.get 0)))
      (func (export "declared") (result funcref) (ref.func $f13)))`);
    assert.deepEqual(elementEncodings(bytes), [0, 1, 2, 3, 4, 5, 6, 7]);
    const { call } = await run(instrument(bytes).bytes);
    call('init');
    assert.deepEqual([0, 2, 6].map((i) => call('t', i)), [10, 14, 15]);
    assert.deepEqual([0, 2].map((i) => call('u', i)), [12, 10]);
    assert.equal(call('t', 4), 11);
    assert.equal((call('declared') as Fn)(), 13);
  });
});

/** The encoding (flags) of each element segment, read straight from the binary. */
function elementEncodings(bytes: Uint8Array): number[] {
  const r = new ByteReader(bytes, 8, bytes.length);
  const expr = (): void => {
    for (let k = decodeInstruction(r); k !== INSTR_END; k = decodeInstruction(r)) if (k === INSTR_FUNC_INDEX) r.u32();
  };
  const out: number[] = [];
  while (!r.atEnd) {
    const id = r.u8();
    const size = r.u32();
    if (id !== 9) { r.skip(size); continue; }
    for (let n = r.u32(); n > 0; n--) {
      const flags = r.u32();
      out.push(flags);
      if ((flags & 3) === 2) r.u32();
      if ((flags & 1) === 0) expr();
      if ((flags & 3) !== 0) r.u8();
      for (let m = r.u32(); m > 0; m--) if ((flags & 4) === 0) r.u32(); else expr();
    }
  }
  return out;
}

describe('instrumentModule: memory cap', () => {
  const cases = [
    { name: 'no declared maximum gets the cap', mem: '(memory 1)', max: 16 },
    { name: 'a larger maximum is lowered to the cap', mem: '(memory 1 1000)', max: 16 },
    { name: 'a smaller maximum is kept', mem: '(memory 1 4)', max: 4 },
    { name: 'a shared memory is capped too', mem: '(memory 1 1000 shared)', max: 16 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const m = instrument(wat(`(module ${c.mem} (export "mem" (memory 0))
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`));
      assert.equal(m.info.memories[0]?.maximumPages, c.max);
      const { call } = await run(m.bytes);
      assert.equal(call('grow', c.max), -1, 'growing past the maximum fails');
      assert.equal(call('grow', c.max - 1), 1, 'growing up to the maximum works');
      assert.equal(call('grow', 1), -1);
    });
  }

  it('rejects a module whose minimum exceeds the cap', () => {
    const res = instrumentModule(wat('(module (memory 17))'), { maxMemoryPages: 16 });
    assert.deepEqual(res, { ok: false, error: 'memory section: memory 0: minimum 17 pages exceeds the limit of 16 pages' });
  });

  it('reports an imported memory without rewriting it', () => {
    const m = instrument(wat('(module (import "env" "memory" (memory 2 100)) (func (drop (memory.size))))'));
    assert.deepEqual(m.info.memories, [
      { index: 0, imported: { module: 'env', name: 'memory' }, minimumPages: 2, maximumPages: 100, shared: false, memory64: false },
    ]);
  });
});

describe('instrumentModule: instruction coverage', () => {
  const cases: Array<{ name: string; src: string; args: number[]; want: unknown }> = [
    {
      name: 'SIMD: v128.const, shuffle, lanes, loads and stores in a loop',
      src: `(module (memory 1) (func (export "f") (param $n i32) (result i32) (local $v v128) (local $i i32)
        (local.set $v (v128.const i32x4 1 2 3 4))
        (loop $l
          (local.set $v (i32x4.add (local.get $v) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $v) (local.get $v))))
          (v128.store offset=16 (i32.const 0) (local.get $v))
          (local.set $v (v128.load32_lane 1 (i32.const 16) (v128.load offset=16 (i32.const 0))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 3 (i32x4.replace_lane 3 (local.get $v) (i32.const 5))))))`,
      args: [3], want: 17,
    },
    {
      name: 'bulk memory: memory.init, data.drop, memory.fill, memory.copy',
      src: `(module (memory 1) (data $d "abcd")
        (func (export "f") (param $n i32) (result i32) (local $i i32)
          (memory.init $d (i32.const 0) (i32.const 0) (i32.const 4)) (data.drop $d)
          (loop $l (memory.copy (i32.add (i32.const 4) (i32.mul (local.get $i) (i32.const 4))) (i32.const 0) (i32.const 4))
            (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
          (memory.fill (i32.const 0) (i32.const 0x7a) (i32.const 1))
          (i32.add (i32.load8_u (i32.const 0)) (i32.load8_u (i32.const 13)))))`,
      args: [4], want: 0x7a + 0x62,
    },
    {
      name: 'exception handling: try, catch, throw, rethrow, catch_all, delegate',
      src: `(module (tag $e (param i32))
        (func $thrower (param i32) (loop $l (br_if $l (i32.eqz (local.get 0))))
          (try (do (throw $e (local.get 0))) (delegate 0)))
        (func (export "f") (param i32) (result i32)
          (try (result i32) (do (try (result i32) (do (call $thrower (local.get 0)) (i32.const 0)) (catch_all (rethrow 0))))
            (catch $e (i32.add (i32.const 100))))))`,
      args: [5], want: 105,
    },
    {
      name: 'multi-value: loops with parameters and results, blocks with a type index',
      src: `(module (type $pair (func (param i32 i32) (result i32 i32)))
        (func (export "f") (param $n i32) (result i32)
          (i32.const 0) (i32.const 0)
          (loop $l (type $pair) (param i32 i32) (result i32 i32)
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (i32.add) (local.get $n) (br_if $l (local.get $n)))
          (drop)))`,
      args: [4], want: 6,
    },
    {
      name: 'threads: atomics on a shared memory',
      src: `(module (memory 1 1 shared) (func (export "f") (param $n i32) (result i32)
        (loop $l (drop (i32.atomic.rmw.add (i32.const 8) (i32.const 2)))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        (atomic.fence) (i32.atomic.load (i32.const 8))))`,
      args: [10], want: 20,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const original = wat(c.src);
      const { instance } = await WebAssembly.instantiate(original);
      assert.equal((instance.exports.f as Fn)(...c.args), c.want, 'the original module');
      const m = instrument(original);
      assert.ok(m.info.loopChecks >= 1);
      const { call, host } = await run(m.bytes, { fuel: 2 });
      assert.equal(call('f', ...c.args), c.want);
      assert.ok(host.exhausted > 0);
    });
  }
});

describe('instrumentModule: errors', () => {
  const valid = wat('(module (memory 1) (func (export "f") (result i32) (i32.const 1)) (data (i32.const 0) "hello"))');
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const oneFunction = (body: number[]): Uint8Array => new Uint8Array([...header,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
    0x0a, body.length + 3, 0x01, body.length + 1, 0x00, ...body]);
  const cases: Array<{ name: string; bytes: Uint8Array; opts?: Partial<InstrumentOptions>; error: RegExp }> = [
    { name: 'garbage bytes', bytes: new TextEncoder().encode('<html>not wasm</html>'), error: /^not a WebAssembly module/ },
    { name: 'an empty buffer', bytes: new Uint8Array(0), error: /^not a WebAssembly module/ },
    { name: 'a component (version 0x0d)', bytes: new Uint8Array([...header.slice(0, 4), 0x0d, 0, 1, 0]), error: /unsupported WebAssembly binary version/ },
    { name: 'a truncated module', bytes: valid.subarray(0, valid.length - 3), error: /^\w+ section at offset 0x\w+ declares \d+ bytes but only \d+ remain \(truncated module\?\)$/ },
    { name: 'an unknown section id', bytes: new Uint8Array([...header, 0x0e, 0x00]), error: /^unknown section id 14 at offset 0x8$/ },
    { name: 'an unknown opcode', bytes: oneFunction([0xfd, 0xff, 0x03, 0x0b]), error: /^code section: function 0: unknown opcode 0xfd 0x1ff at offset 0x\w+$/ },
    { name: 'an unknown single-byte opcode', bytes: oneFunction([0x01, 0x17, 0x0b]), error: /^code section: function 0: unknown opcode 0x17 at offset 0x\w+$/ },
    { name: 'a body that runs past its size', bytes: oneFunction([0x41]), error: /^code section: function 0: unexpected end of data/ },
    { name: 'a module V8 rejects', bytes: oneFunction([0x41, 0x01, 0x0b]), error: /^invalid module: / },
    { name: 'an already instrumented module', bytes: instrument(valid).bytes, error: /already imports isthmus\.fuel_exhausted/ },
    { name: 'a bad cap', bytes: valid, opts: { maxMemoryPages: 70000 }, error: /^maxMemoryPages must be an integer in 0\.\.65536/ },
  ];
  for (const c of cases) {
    it(`reports ${c.name}`, () => {
      const res = instrumentModule(c.bytes, { maxMemoryPages: 16, ...c.opts });
      assert.equal(res.ok, false);
      if (!res.ok) assert.match(res.error, c.error);
    });
  }
});

describe('instrumentModule: AssemblyScript', () => {
  let dir = '';
  let bytes = new Uint8Array(0);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'isthmus-instrument-'));
    writeFileSync(join(dir, 'x.ts'), `
      export function sum(n: i32): i64 { let s: i64 = 0; for (let i = 0; i < n; i++) s += i; return s; }
      const names = new Array<string>();
      export function push(n: i32): i32 { for (let i = 0; i < n; i++) names.push("x" + i.toString()); return names.length; }
      export function spin(): void { while (true) {} }
    `);
    const asc = fileURLToPath(new URL('../../../node_modules/assemblyscript/bin/asc.js', import.meta.url));
    execFileSync(process.execPath, [asc, join(dir, 'x.ts'), '-o', join(dir, 'x.wasm'), '--runtime', 'stub'], { stdio: 'pipe' });
    bytes = readFileSync(join(dir, 'x.wasm'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('still works after instrumentation, and its runaway loop is stopped', async () => {
    const m = instrument(bytes);
    const abort = (): void => { throw new Error('abort'); };
    const { call } = await run(m.bytes, { refills: 10_000, imports: { env: { abort } } });
    assert.equal(call('sum', 1000), 499_500n);
    assert.equal(call('push', 500), 500);
    assert.equal(call('push', 500), 1000);
    assert.throws(() => call('spin'), BudgetExceeded);
  });
});
