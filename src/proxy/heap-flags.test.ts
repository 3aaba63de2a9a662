import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { governedFlags, governHeap, isBusy, nodeOptionsWords, proxyHeapFlags } from './heap-flags.js';

const GROWTH_ON = '--semi-space-growth-factor=2';
const GROWTH_OFF = '--semi-space-growth-factor=1';
const OLD_OWN = '--heap-growing-percent=0';
const OLD_TIGHT = '--heap-growing-percent=10';

const ALL = ['--semi-space-growth-factor=1', '--heap-growing-percent=10', '--no-parallel-scavenge'];
const GC_THREADS = '--no-parallel-scavenge';

describe('proxy heap flags', () => {
  const cases: { name: string; startedWith: string[]; want: string[] }[] = [
    { name: 'plain node: every setting', startedWith: [], want: ALL },
    { name: 'unrelated flags change nothing', startedWith: ['--enable-source-maps', '--import', 'tsx'], want: ALL },
    { name: 'a semi-space size on the command line sizes the young generation', startedWith: ['--max-semi-space-size=2'], want: ['--heap-growing-percent=10', GC_THREADS] },
    { name: 'V8 spellings with underscores count too', startedWith: ['--min_semi_space_size=4'], want: ['--heap-growing-percent=10', GC_THREADS] },
    { name: 'a growth factor on the command line wins', startedWith: ['--semi-space-growth-factor=2'], want: ['--heap-growing-percent=10', GC_THREADS] },
    { name: 'a heap growing percent on the command line wins', startedWith: ['--heap-growing-percent=50'], want: ['--semi-space-growth-factor=1', GC_THREADS] },
    { name: 'GC threads asked for on the command line stay', startedWith: ['--parallel-scavenge'], want: ['--semi-space-growth-factor=1', '--heap-growing-percent=10'] },
    { name: 'single-threaded GC chosen on the command line: not set again', startedWith: ['--single-threaded-gc'], want: ['--semi-space-growth-factor=1', '--heap-growing-percent=10'] },
    { name: 'every setting chosen: nothing to set', startedWith: ['--max-semi-space-size', '8', '--heap_growing_percent=30', '--no_parallel_scavenge'], want: [] },
    { name: 'a flag merely starting the same way is not it', startedWith: ['--max-semi-space-sizes=2', '--parallel-scavenges'], want: ALL },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(proxyHeapFlags(c.startedWith), c.want));
  }

  it('reads NODE_OPTIONS as words', () => {
    assert.deepEqual(nodeOptionsWords(undefined), []);
    assert.deepEqual(nodeOptionsWords('  --max-semi-space-size=2   --enable-source-maps '), ['--max-semi-space-size=2', '--enable-source-maps']);
  });

  it('set at run time, the flags keep the young generation at 1 MiB semi-spaces under steady allocation', () => {
    // The same allocation pattern as a proxy under load: garbage with a small set surviving each scavenge.
    // By default V8 grows each semi-space to 16 MiB here; Node would ignore a flag it no longer honours
    // at run time without a word, so this is checked in a real process.
    const program = `
      const v8 = require('node:v8');
      for (const f of ${JSON.stringify(ALL)}) v8.setFlagsFromString(f);
      let keep = [];
      for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
      const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      process.stdout.write(String(ns.space_size));`;
    const newSpaceBytes = Number(execFileSync(process.execPath, ['-e', program], { encoding: 'utf8' }));
    assert.ok(newSpaceBytes <= 2 * 1024 * 1024, `new space ${newSpaceBytes} bytes`);
  });

  it('set at run time, the scavenge setting leaves scavenges to the main thread (one task), full GCs included', () => {
    // --trace-parallel-scavenge prints a line per scavenge task, --trace-gc one per collection; by default
    // V8 runs several tasks per scavenge on a multi-core machine (and, on one core, waits for them in turn).
    const program = `
      const v8 = require('node:v8');
      if (process.argv[1] === 'tuned') for (const f of ${JSON.stringify(ALL)}) v8.setFlagsFromString(f);
      // Batches kept a while reach the old generation: full GCs run too (V8 aborts on some GC flags
      // changed after start-up, which is why only some are set at run time).
      let keep = [], old = [];
      for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) { old.push(keep); keep = []; if (old.length > 40) old = []; } }`;
    /** Scavenge tasks per scavenge. */
    const tasks = (mode: string): number => {
      const out = execFileSync(process.execPath, ['--trace-gc', '--trace-parallel-scavenge', '-e', program, mode], { encoding: 'utf8' });
      const scavenges = (out.match(/\bScavenge\b/g) ?? []).length;
      assert.ok(scavenges > 0, 'the program scavenged');
      return (out.match(/\bscavenge\[0x[0-9a-f]+\]/g) ?? []).length / scavenges;
    };
    assert.equal(tasks('tuned'), 1);
    // Without the flags, on a machine with more than one core, more than one task: proof the trace counts tasks.
    if (availableParallelism() > 1) assert.ok(tasks('default') > 1, 'V8 scavenges in parallel by default');
  });
});

describe('the heap governor', () => {
  it('counts the proxy busy only while the loop is more than half busy', () => {
    assert.equal(isBusy(0.15), false, 'a steady 1k req/s: about 15% busy');
    assert.equal(isBusy(0.5), false);
    assert.equal(isBusy(0.95), true, 'saturated');
  });

  it('governs only the settings the proxy made, not the ones the command line chose', () => {
    assert.deepEqual(governedFlags(proxyHeapFlags([])), { calm: [GROWTH_OFF, OLD_TIGHT], busy: [GROWTH_ON, OLD_OWN] });
    assert.deepEqual(governedFlags(proxyHeapFlags(['--max-semi-space-size=2'])), { calm: [OLD_TIGHT], busy: [OLD_OWN] });
    assert.deepEqual(governedFlags(proxyHeapFlags(['--heap-growing-percent=50'])), { calm: [GROWTH_OFF], busy: [GROWTH_ON] });
    assert.deepEqual(governedFlags(proxyHeapFlags(['--semi-space-growth-factor=2', '--heap-growing-percent=50'])), { calm: [], busy: [] });
  });

  it('sets the flags only when the decision changes, after its start delay, every period', () => {
    const readings = [0.1, 0.9, 0.9, 0.8, 0.2, 0.2, 0.7];
    let i = -1;
    const set: string[] = [];
    let tick: (() => void) | undefined;
    let timing: number[] = [];
    let stopped = false;
    const stop = governHeap(
      {
        utilization: () => readings[i] as number,
        setFlag: (f) => set.push(f),
        every: (fn, delayMs, periodMs) => {
          tick = fn;
          timing = [delayMs, periodMs];
          return () => (stopped = true);
        },
      },
      { calm: [GROWTH_OFF, OLD_TIGHT], busy: [GROWTH_ON, OLD_OWN] },
    );
    assert.deepEqual(timing, [5_000, 1_000]);
    const flagsAfterEachTick = readings.map(() => {
      i++;
      tick?.();
      return set.slice(-2).join(' ') || '(none)';
    });
    const busy = `${GROWTH_ON} ${OLD_OWN}`;
    const calm = `${GROWTH_OFF} ${OLD_TIGHT}`;
    assert.deepEqual(flagsAfterEachTick, ['(none)', busy, busy, busy, calm, calm, busy]);
    assert.deepEqual(set, [GROWTH_ON, OLD_OWN, GROWTH_OFF, OLD_TIGHT, GROWTH_ON, OLD_OWN], 'flags only when the decision changes');
    stop();
    assert.equal(stopped, true);
  });

  it('set at run time, V8\'s own old-generation growth takes fewer full GCs than the proxy\'s 10%', () => {
    // Batches that live across several scavenges and then die in the old generation, as the streams in
    // flight under load do: the full GCs (a gc PerformanceObserver) in a first half with the proxy's flags,
    // then in a second half after the busy setting, or again without it. The second half must take clearly
    // fewer with it (proof V8 reads the flag after start-up) and about as many without.
    const program = `
      const v8 = require('node:v8');
      const { PerformanceObserver, constants } = require('node:perf_hooks');
      for (const f of ${JSON.stringify(ALL)}) v8.setFlagsFromString(f);
      let majors = 0;
      new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++; }).observe({ entryTypes: ['gc'] });
      const live = []; for (let i = 0; i < 3e5; i++) live.push({ i, s: 'live' + i });
      const churn = () => new Promise((r) => { let batches = []; let n = 0; const step = () => { for (let k = 0; k < 20; k++) { batches.push(Array.from({ length: 2000 }, (_, i) => ({ i, s: 'x' + i }))); if (batches.length > 30) batches = []; } if (++n < 100) setImmediate(step); else r(); }; step(); });
      (async () => {
        await churn();
        const first = majors;
        majors = 0;
        if (process.argv[1] === 'busy') v8.setFlagsFromString(${JSON.stringify(OLD_OWN)});
        await churn();
        await new Promise((r) => setImmediate(r));
        process.stdout.write(JSON.stringify([first, majors]));
      })();`;
    const run = (mode: string): number[] => JSON.parse(execFileSync(process.execPath, ['-e', program, mode], { encoding: 'utf8' })) as number[];
    const [calmFirst, calmSecond] = run('calm') as [number, number];
    const [busyFirst, busySecond] = run('busy') as [number, number];
    assert.ok(calmFirst >= 8 && busyFirst >= 8, `the pattern takes full GCs under the proxy's flags: ${calmFirst}, ${busyFirst}`);
    assert.ok(calmSecond >= calmFirst * 0.7, `without the setting, as many again: ${calmFirst} then ${calmSecond}`);
    assert.ok(busySecond <= busyFirst * 0.6, `with it, clearly fewer: ${busyFirst} then ${busySecond}`);
  });

  it('set at run time, the growth flag lets a busy process grow its semi-spaces, and turning it off stops them', () => {
    // The proxy's flags first, as at start-up; then growth turned on halfway through the same allocation
    // pattern as the first test above. New space must pass 2 MiB with growth on (proof the flag is read at
    // run time), and must stay put once it is off again.
    const program = `
      const v8 = require('node:v8');
      for (const f of ${JSON.stringify(ALL)}) v8.setFlagsFromString(f);
      const ns = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
      const churn = () => { let keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; } };
      churn();
      const before = ns();
      v8.setFlagsFromString(${JSON.stringify(GROWTH_ON)});
      churn();
      const grown = ns();
      v8.setFlagsFromString(${JSON.stringify(GROWTH_OFF)});
      churn();
      process.stdout.write(JSON.stringify([before, grown, ns()]));`;
    const [before, grown, after] = JSON.parse(execFileSync(process.execPath, ['-e', program], { encoding: 'utf8' })) as number[];
    assert.ok((before as number) <= 2 * 1024 * 1024, `before: ${before}`);
    assert.ok((grown as number) > 2 * 1024 * 1024, `grown: ${grown}`);
    assert.ok((after as number) <= (grown as number), `after: ${after}, grown: ${grown}`);
  });
});

