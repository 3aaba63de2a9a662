// Builds or Node flags of the proxy to compare (memory.ts, ab.ts): `<name>=<entry>[,<node flag>...]`, e.g.
// `base=dist/bundle/isthmus.mjs semi2=dist/bundle/isthmus.mjs,--max-semi-space-size=2`; a process's CPU
// time, read from /proc; and the benches' numeric settings from the environment.

import { readFileSync } from 'node:fs';

export interface Variant {
  readonly name: string;
  /** How to run `isthmus` for this variant: node, its flags, the entry point. */
  readonly command: readonly string[];
}

export function parseVariants(args: readonly string[]): Variant[] {
  const variants = args.map((a) => {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new Error(`variant "${a}": want <name>=<entry>[,<node flag>...]`);
    const [entry, ...flags] = a.slice(eq + 1).split(',');
    if (entry === undefined || entry === '') throw new Error(`variant "${a}": no entry`);
    return { name: a.slice(0, eq), command: [process.execPath, ...flags, entry] };
  });
  const names = new Set(variants.map((v) => v.name));
  if (names.size !== variants.length) throw new Error('variant names must differ');
  return variants;
}

/** User plus system CPU time of a process, in clock ticks (USER_HZ: 100 per second on Linux). */
export function cpuTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** Milliseconds per clock tick of cpuTicks. */
export const MS_PER_TICK = 10;

/** A whole-number setting from the environment (BENCH_*), `fallback` when unset or empty. */
export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}="${raw}": must be a whole number above 0`);
  return n;
}

/** Which gateway a bench loads, from the environment variable `name`: http (default), https (TLS terminated) or tcp (tcp_proxy). */
export function gatewayKind(name: string): 'http' | 'https' | 'tcp' {
  const k = process.env[name] ?? 'http';
  if (k !== 'http' && k !== 'https' && k !== 'tcp') throw new Error(`${name}="${k}": http, https or tcp`);
  return k;
}

/** The load generator, from the environment variable `name`: wrk (default) or h2 (h2load -c<n> -m10, cleartext HTTP/2). */
export function loadKind(name: string): 'wrk' | 'h2' {
  const k = process.env[name] ?? 'wrk';
  if (k !== 'wrk' && k !== 'h2') throw new Error(`${name}="${k}": wrk or h2`);
  return k;
}
