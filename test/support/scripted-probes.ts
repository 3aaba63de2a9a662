// Health check probes a test answers by hand (HealthCheckerDeps.probeFactory): no sockets, every check's
// outcome chosen by the test, with the checker's clock a FakeClock.

import type { CompiledHealthCheck } from '../../src/proxy/upstream/health-checker-config.js';
import type { Probe, ProbeOutcome, ProbeReport, ProbeTarget } from '../../src/proxy/upstream/health-checker-probe.js';

export const PASS: ProbeOutcome = { ok: true, degraded: false };
export const NET: ProbeOutcome = { ok: false, type: 'network', retriable: false, excludeImmediately: false };
export const BAD: ProbeOutcome = { ok: false, type: 'active', retriable: false, excludeImmediately: false };
export const RETRY: ProbeOutcome = { ok: false, type: 'active', retriable: true, excludeImmediately: false };

/** Probes the test answers by hand: `runs` counts checks started per host, `answer` reports one. */
export class ScriptedProbes {
  readonly runs = new Map<string, number>();
  readonly closed = new Set<string>();
  readonly aborted = new Map<string, number>();
  readonly #report = new Map<string, ProbeReport>();
  readonly targets = new Map<string, ProbeTarget>();

  readonly factory = (_c: CompiledHealthCheck, t: ProbeTarget, report: ProbeReport): Probe => {
    const key = `${t.address}:${t.port}`;
    this.#report.set(key, report);
    this.targets.set(key, t);
    this.closed.delete(key);
    return {
      run: () => void this.runs.set(key, (this.runs.get(key) ?? 0) + 1),
      abort: () => void this.aborted.set(key, (this.aborted.get(key) ?? 0) + 1),
      close: () => void this.closed.add(key),
    };
  };

  answer(key: string, o: ProbeOutcome): void {
    (this.#report.get(key) as ProbeReport)(o);
  }

  count(key: string): number {
    return this.runs.get(key) ?? 0;
  }
}

