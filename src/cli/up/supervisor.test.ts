// Supervisor with real child processes (`node -e`): crash reports, restarts with a doubling back-off,
// stopping (SIGTERM, then SIGKILL), spawn failures and output lines. Waits for events, never for time,
// except to check that nothing happens after a stop.

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../../test/support/wait.js';
import { Supervisor, type ProcessSpec, type SupervisorEvent } from './supervisor.js';

interface Harness {
  readonly sup: Supervisor;
  readonly events: SupervisorEvent[];
  readonly lines: { name: string; line: string }[];
  readonly dir: string;
}

let current: Harness | undefined;

afterEach(async () => {
  if (current === undefined) return;
  await current.sup.stopAll(500);
  await rm(current.dir, { recursive: true, force: true });
  current = undefined;
});

async function harness(): Promise<Harness> {
  const events: SupervisorEvent[] = [];
  const lines: { name: string; line: string }[] = [];
  const sup = new Supervisor({ onEvent: (e) => events.push(e), onLine: (name, line) => lines.push({ name, line }), minBackoffMs: 50, maxBackoffMs: 200 });
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-supervisor-'));
  current = { sup, events, lines, dir };
  return current;
}

function nodeScript(name: string, script: string, dir: string): ProcessSpec {
  return { name, command: process.execPath, args: ['-e', script], env: { PATH: process.env['PATH'] }, cwd: dir };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function ofType<T extends SupervisorEvent['type']>(events: readonly SupervisorEvent[], type: T, name?: string): Extract<SupervisorEvent, { type: T }>[] {
  return events.filter((e): e is Extract<SupervisorEvent, { type: T }> => e.type === type && (name === undefined || e.name === name));
}

const RUN_FOREVER = "console.log('ready'); setInterval(() => {}, 1000);";

describe('Supervisor', () => {
  it('reports a process that exits, with its code and last output lines, and restarts it', async () => {
    const h = await harness();
    h.sup.start(nodeScript('crasher (app)', "console.log('starting'); console.error('boom: no database'); process.exit(3);", h.dir));
    const exited = await waitFor(() => ofType(h.events, 'exited')[0], 'the first exit');
    assert.equal(exited.name, 'crasher (app)');
    assert.equal(exited.code, 3);
    assert.equal(exited.signal, null);
    assert.equal(exited.restartInMs, 50);
    assert.ok(exited.lastLines.includes('boom: no database'), `lastLines: ${JSON.stringify(exited.lastLines)}`);
    assert.ok(exited.lastLines.includes('starting'), `lastLines: ${JSON.stringify(exited.lastLines)}`);
    const restarted = await waitFor(() => ofType(h.events, 'restarted')[0], 'the restart');
    assert.equal(restarted.name, 'crasher (app)');
    assert.equal(restarted.restarts, 1);
    assert.ok(restarted.pid > 0);
    assert.ok(h.sup.restarts('crasher (app)') >= 1);
  });

  it('doubles the back-off up to the maximum and counts restarts', async () => {
    const h = await harness();
    h.sup.start(nodeScript('loop', 'process.exit(1);', h.dir));
    await waitFor(() => ofType(h.events, 'restarted').length >= 4 && ofType(h.events, 'exited').length >= 5, 'four restarts and five exits', 10_000);
    const waits = ofType(h.events, 'exited').slice(0, 5).map((e) => e.restartInMs);
    assert.deepEqual(waits, [50, 100, 200, 200, 200]);
    assert.deepEqual(
      ofType(h.events, 'restarted')
        .slice(0, 4)
        .map((e) => e.restarts),
      [1, 2, 3, 4],
    );
    // Exits and restarts alternate: each restart follows one exit.
    h.events.forEach((e, i) => assert.equal(e.type, i % 2 === 0 ? 'exited' : 'restarted', `event ${i}`));
  });

  it('keeps the last lines of a process that writes a lot, newest last', async () => {
    const h = await harness();
    h.sup.start(nodeScript('chatty', "for (let i = 1; i <= 50; i++) console.log('line ' + i); process.exit(2);", h.dir));
    const exited = await waitFor(() => ofType(h.events, 'exited')[0], 'the exit');
    assert.ok(exited.lastLines.length <= 20, `kept ${exited.lastLines.length}`);
    assert.equal(exited.lastLines.at(-1), 'line 50');
  });

  it('passes every stdout and stderr line to onLine with the process name', async () => {
    const h = await harness();
    h.sup.start(nodeScript('talker', "console.log('out one\\nout two'); console.error('err one'); " + RUN_FOREVER, h.dir));
    await waitFor(() => h.lines.some((l) => l.line === 'ready') && h.lines.some((l) => l.line === 'err one'), 'the output');
    const got = h.lines.filter((l) => l.name === 'talker').map((l) => l.line);
    for (const want of ['out one', 'out two', 'err one', 'ready']) assert.ok(got.includes(want), `${want} in ${JSON.stringify(got)}`);
    assert.ok(!got.includes(''), 'no empty lines');
    assert.ok(h.sup.lastLines('talker').includes('err one'));
  });

  it(
    'passes a line written in two pieces as one line',
    async () => {
      const h = await harness();
      h.sup.start(nodeScript('slow', "process.stdout.write('hel'); setTimeout(() => { process.stdout.write('lo\\n'); console.log('done'); }, 100); setInterval(() => {}, 1000);", h.dir));
      await waitFor(() => h.lines.some((l) => l.line === 'done'), 'the output');
      assert.deepEqual(
        h.lines.map((l) => l.line),
        ['hello', 'done'],
      );
    },
  );

  it('stop(name) sends SIGTERM, the process is gone and is not restarted', async () => {
    const h = await harness();
    h.sup.start(nodeScript('server', "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); }); " + RUN_FOREVER, h.dir));
    await waitFor(() => h.lines.some((l) => l.line === 'ready'), 'the process to start');
    const pid = h.sup.pids().get('server');
    assert.ok(pid !== undefined);
    assert.ok(alive(pid));
    await h.sup.stop('server');
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.ok(h.lines.some((l) => l.line === 'got SIGTERM'), 'the process saw SIGTERM');
    assert.equal(h.sup.pids().has('server'), false);
    assert.deepEqual(ofType(h.events, 'exited'), [], 'a requested stop is not reported as an exit');
  });

  it('SIGKILLs a process that ignores SIGTERM after graceMs', async () => {
    const h = await harness();
    h.sup.start(nodeScript('stubborn', "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); " + RUN_FOREVER, h.dir));
    await waitFor(() => h.lines.some((l) => l.line === 'ready'), 'the process to start');
    const pid = h.sup.pids().get('stubborn');
    assert.ok(pid !== undefined);
    await h.sup.stop('stubborn', 200);
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.ok(h.lines.some((l) => l.line === 'ignoring SIGTERM'), 'SIGTERM came first');
  });

  it('stop of an unknown name does nothing', async () => {
    const h = await harness();
    await h.sup.stop('nobody');
    assert.deepEqual(h.events, []);
  });

  it('stopAll stops every process, including one waiting to restart, and nothing restarts afterwards', async () => {
    const h = await harness();
    h.sup.start(nodeScript('a', RUN_FOREVER, h.dir));
    h.sup.start(nodeScript('b', "process.on('SIGTERM', () => {}); " + RUN_FOREVER, h.dir));
    h.sup.start(nodeScript('crashing', 'process.exit(1);', h.dir));
    await waitFor(() => h.lines.filter((l) => l.line === 'ready').length === 2, 'both long-running processes');
    await waitFor(() => ofType(h.events, 'exited', 'crashing').length >= 2, 'the crashing process to crash twice');
    const pids = [...h.sup.pids().entries()].filter(([name]) => name === 'a' || name === 'b').map(([, pid]) => pid);
    assert.equal(pids.length, 2);
    await h.sup.stopAll(200);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.equal(h.sup.pids().size, 0);
    const seen = h.events.length;
    // Longer than the maximum back-off: a pending restart would have happened by now.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(h.events.slice(seen), []);
    assert.equal(h.sup.pids().size, 0);
  });

  it('reports a command that does not exist as spawn-failed, without crashing or restarting', async () => {
    const h = await harness();
    h.sup.start({ name: 'ghost', command: join(h.dir, 'no-such-command'), args: [], env: {}, cwd: h.dir });
    const failed = await waitFor(() => ofType(h.events, 'spawn-failed')[0], 'spawn-failed');
    assert.equal(failed.name, 'ghost');
    assert.match(failed.error, /ENOENT/);
    assert.equal(h.sup.pids().has('ghost'), false);
    // The supervisor keeps working.
    h.sup.start(nodeScript('after', RUN_FOREVER, h.dir));
    await waitFor(() => h.lines.some((l) => l.name === 'after' && l.line === 'ready'), 'a later process');
    assert.deepEqual(ofType(h.events, 'exited'), []);
  });

  it('refuses to supervise the same name twice', async () => {
    const h = await harness();
    h.sup.start(nodeScript('one', RUN_FOREVER, h.dir));
    assert.throws(() => h.sup.start(nodeScript('one', RUN_FOREVER, h.dir)), /already supervised/);
  });

  it('runs the process in cwd with exactly the given environment', async () => {
    const h = await harness();
    h.sup.start({ ...nodeScript('env', `console.log('cwd=' + process.cwd()); console.log('X=' + process.env.X + ' HOME=' + process.env.HOME); ${RUN_FOREVER}`, h.dir), env: { X: 'forty-two', HOME: undefined } });
    await waitFor(() => h.lines.some((l) => l.line === 'ready'), 'the output');
    const got = h.lines.map((l) => l.line);
    assert.ok(got.includes('X=forty-two HOME=undefined'), JSON.stringify(got));
    assert.ok(got.includes(`cwd=${await realpath(h.dir)}`), JSON.stringify(got));
  });
});
