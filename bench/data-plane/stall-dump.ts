// When a run through Isthmus measures (next to) nothing, what the proxy's admin said about it. Session 15's
// full bench once saw the HTTP/2-to-HTTP/2 gateway answer one request per 10-second run and leave the other
// 99 in flight, and nothing since has reproduced it; the next time, the bench keeps the evidence. Halfway
// through each Isthmus run it reads `/clusters` (Envoy's per-host `rq_active`, health flags) and `/stats`
// (one admin request on the proxy's core, next to tens of thousands of proxied ones); after the run it reads
// them again, and if the run looks stalled it writes both to a file and says where.

import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult } from './load.js';

const ADMIN_TIMEOUT_MS = 2_000;
const PATHS = ['/clusters', '/stats'] as const;

/** A throughput run under this many req/s, or a fixed-rate run that completed under half its schedule, stalled. */
const STALLED_RPS = 100;

export function looksStalled(load: LoadResult, fixedRate: number | undefined): boolean {
  return fixedRate === undefined ? load.rps < STALLED_RPS : load.rps < fixedRate / 2;
}

/** The admin's answers to `/clusters` and `/stats`, or why each could not be read. Never throws. */
export async function adminSnapshot(adminUrl: string): Promise<string> {
  const parts = await Promise.all(
    PATHS.map(async (path) => {
      try {
        const r = await fetch(adminUrl + path, { signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
        return `## GET ${path}: ${r.status}\n${await r.text()}`;
      } catch (e) {
        return `## GET ${path}: failed: ${e instanceof Error ? e.message : String(e)}`;
      }
    }),
  );
  return parts.join('\n');
}

export interface StallReport {
  readonly what: string;
  readonly load: LoadResult;
  readonly midRun: string | undefined;
  readonly afterRun: string;
}

/** Writes a stalled run's report into `dir` (made if missing); returns the file's path. */
export function writeStallReport(dir: string, name: string, r: StallReport): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name.replace(/[^\w.-]+/g, '_')}.txt`);
  const text = [
    `# ${r.what}`,
    `load: ${JSON.stringify(r.load)}`,
    '',
    '# halfway through the run',
    r.midRun ?? '(not read)',
    '',
    '# after the run',
    r.afterRun,
    '',
  ].join('\n');
  writeFileSync(file, text);
  return file;
}

/** Where a bench run's stall reports go: kept after the bench ends, unlike its working directory. */
export const stallReportDir = (): string => join(tmpdir(), `isthmus-bench-stalls-${process.pid}`);
