// The `isthmus` command tree. Each verb lives in its own file and registers itself here; this file only
// assembles them. Errors with a stable code (IsthmusError) are printed as `error: <message>` with exit 1.
//
// Verbs are loaded on demand: `isthmus validate` loads validate's module (and what it imports), not the
// translator, the proxy or every Envoy descriptor the other verbs need, so a short command starts in a fraction
// of the time. When the first word names no verb, the verbs a later word names are loaded (`help validate`);
// when no word names one (top-level help, a typo that commander answers with a suggestion), the tree is made of
// the verbs' summaries (verb-summaries.ts): their names, terms and descriptions, and nothing to run.

import { Command, Help } from 'commander';
import type { KindRegistry } from '../api/kind.js';
import { runCommand } from './run-command.js';
import { VERSION } from './version.js';
import type { CliIO } from './output.js';
import { VERB_SUMMARIES } from './verb-summaries.js';

export { VERSION };

export interface CliDeps {
  readonly io: CliIO;
  readonly registry: KindRegistry;
  /** Resolves when a long-running command should stop (SIGINT/SIGTERM). */
  readonly stopSignal?: () => Promise<void>;
}

interface RegisterDeps {
  readonly io: CliIO;
  readonly registry: KindRegistry;
  readonly stopSignal: () => Promise<void>;
}

type Register = (program: Command, deps: RegisterDeps) => void;

/** A verb's first words (name and aliases) and how to load what registers it; in `--help` order. */
interface Verb {
  readonly words: readonly string[];
  readonly load: () => Promise<Register>;
}

const EXPERIMENTAL = ['x', 'experimental', 'exp'];

function verb(words: readonly string[], load: () => Promise<Register>): Verb {
  return { words, load };
}

const VERBS: readonly Verb[] = [
  verb(['validate'], async () => {
    const m = await import('./validate.js');
    return (p, d) => m.registerValidate(p, d.io, d.registry);
  }),
  verb(['analyze'], async () => {
    const m = await import('./analyze.js');
    return (p, d) => m.registerAnalyze(p, d.io, d.registry);
  }),
  verb(['bootstrap'], async () => {
    const m = await import('./bootstrap.js');
    return (p, d) => m.registerBootstrap(p, d.io);
  }),
  verb(['proxy-status'], async () => {
    const m = await import('./proxy-status.js');
    return (p, d) => m.registerProxyStatus(p, d.io);
  }),
  verb(['control-plane'], async () => {
    const m = await import('./control-plane.js');
    return (p, d) => m.registerControlPlane(p, d);
  }),
  verb(['proxies'], async () => {
    const m = await import('./proxy-host.js');
    return (p, d) => m.registerProxyHost(p, d);
  }),
  verb(['proxy'], async () => {
    const m = await import('./proxy.js');
    return (p, d) => m.registerProxy(p, d);
  }),
  verb(['apply', 'delete'], async () => {
    const m = await import('./apply.js');
    return (p, d) => m.registerApply(p, d.io);
  }),
  verb(['proxy-config', 'pc'], async () => {
    const m = await import('./proxy-config.js');
    return (p, d) => m.registerProxyConfig(p, d.io);
  }),
  verb(['dashboard', 'dash', 'd'], async () => {
    const m = await import('./dashboard.js');
    return (p, d) => m.registerDashboard(p, d.io);
  }),
  verb(['request'], async () => {
    const m = await import('./request.js');
    return (p, d) => m.registerRequest(p, d.io);
  }),
  verb(['explain'], async () => {
    const m = await import('./explain.js');
    return (p, d) => m.registerExplain(p, d.io);
  }),
  verb(EXPERIMENTAL, async () => {
    const m = await import('./describe.js');
    return (p, d) => m.registerDescribe(p, d.io);
  }),
  verb(EXPERIMENTAL, async () => {
    const m = await import('./authz.js');
    return (p, d) => m.registerAuthz(p, d.io, d.registry);
  }),
  verb(EXPERIMENTAL, async () => {
    const m = await import('./authz-check.js');
    return (p, d) => m.registerAuthzCheck(p, d.io);
  }),
  verb(EXPERIMENTAL, async () => {
    const m = await import('./metrics.js');
    return (p, d) => m.registerMetrics(p, d.io);
  }),
  verb(EXPERIMENTAL, async () => {
    const m = await import('./envoy-stats.js');
    return (p, d) => m.registerEnvoyStats(p, d.io);
  }),
  verb(['wasm'], async () => {
    const m = await import('./wasm-run.js');
    return (p, d) => m.registerWasm(p, d.io);
  }),
  verb(['run'], async () => {
    const m = await import('./run.js');
    return (p, d) => m.registerRun(p, d);
  }),
  verb(['up'], async () => {
    const m = await import('./up.js');
    return (p, d) => m.registerUp(p, d);
  }),
  verb(['watch'], async () => {
    const m = await import('./watch.js');
    return (p, d) => m.registerWatch(p, d);
  }),
];

/**
 * The verbs `argv` needs: those its first word names, none for `--version`, else those a later word names
 * (`help validate`), else none: 'summaries' (every verb's summary, for top-level help and suggestions).
 */
export function verbsFor(argv: readonly string[]): readonly Verb[] | 'summaries' {
  const first = argv[0];
  if (first === '--version') return [];
  const named = first === undefined ? [] : VERBS.filter((v) => v.words.includes(first));
  if (named.length > 0) return named;
  const later = VERBS.filter((v) => argv.some((w) => v.words.includes(w)));
  return later.length > 0 ? later : 'summaries';
}

/** Every verb as a command with its summary's name, aliases and description, listed with its summary's term. */
function registerSummaries(program: Command): void {
  const terms = new Map<Command, string>();
  for (const s of VERB_SUMMARIES) terms.set(program.command(s.name).aliases([...s.aliases]).description(s.description), s.term);
  const standard = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd) ?? standard.subcommandTerm(cmd) });
}

/** The command tree with the verbs `argv` uses (every verb when `argv` is omitted). */
export async function createProgram(deps: CliDeps, argv?: readonly string[]): Promise<Command> {
  const { io } = deps;
  const program = new Command('isthmus')
    .description('Isthmus: a service mesh that speaks Istio. Validate, analyze and run Istio config on a laptop.')
    .version(VERSION, '--version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  const full: RegisterDeps = { io, registry: deps.registry, stopSignal: deps.stopSignal ?? (() => new Promise<void>(() => undefined)) };
  const verbs = argv === undefined ? VERBS : verbsFor(argv);
  if (verbs === 'summaries') {
    registerSummaries(program);
    return program;
  }
  const registers = await Promise.all(verbs.map((v) => v.load()));
  for (const register of registers) register(program, full);
  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit status. */
export function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  return runCommand(argv, deps.io, (io) => createProgram({ ...deps, io }, argv));
}
