// The `isthmus` command tree. Each verb lives in its own file and registers itself here; this file only
// assembles them. Errors with a stable code (IsthmusError) are printed as `error: <message>` with exit 1.

import { Command } from 'commander';
import type { KindRegistry } from '../api/kind.js';
import { runCommand } from './run-command.js';
import { VERSION } from './version.js';
import type { CliIO } from './output.js';
import { registerAnalyze } from './analyze.js';
import { registerValidate } from './validate.js';
import { registerWatch } from './watch.js';
import { registerBootstrap } from './bootstrap.js';
import { registerControlPlane } from './control-plane.js';
import { registerProxyStatus } from './proxy-status.js';
import { registerProxy } from './proxy.js';
import { registerProxyHost } from './proxy-host.js';
import { registerUp } from './up.js';
import { registerRun } from './run.js';
import { registerApply } from './apply.js';
import { registerProxyConfig } from './proxy-config.js';
import { registerDashboard } from './dashboard.js';
import { registerRequest } from './request.js';
import { registerExplain } from './explain.js';
import { registerDescribe } from './describe.js';
import { registerAuthz } from './authz.js';
import { registerAuthzCheck } from './authz-check.js';
import { registerWasm } from './wasm-run.js';
import { registerMetrics } from './metrics.js';

export { VERSION };

export interface CliDeps {
  readonly io: CliIO;
  readonly registry: KindRegistry;
  /** Resolves when a long-running command should stop (SIGINT/SIGTERM). */
  readonly stopSignal?: () => Promise<void>;
}

export function createProgram(deps: CliDeps): Command {
  const { io } = deps;
  const program = new Command('isthmus')
    .description('Isthmus: a service mesh that speaks Istio. Validate, analyze and run Istio config on a laptop.')
    .version(VERSION, '--version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  registerValidate(program, io, deps.registry);
  registerAnalyze(program, io, deps.registry);
  registerBootstrap(program, io);
  registerProxyStatus(program, io);
  registerControlPlane(program, { io, registry: deps.registry, stopSignal: deps.stopSignal ?? (() => new Promise<void>(() => undefined)) });
  registerProxyHost(program, { io, stopSignal: deps.stopSignal ?? (() => new Promise<void>(() => undefined)) });
  registerProxy(program, { io, stopSignal: deps.stopSignal ?? (() => new Promise<void>(() => undefined)) });
  registerApply(program, io);
  registerProxyConfig(program, io);
  registerDashboard(program, io);
  registerRequest(program, io);
  registerExplain(program, io);
  registerDescribe(program, io);
  registerAuthz(program, io, deps.registry);
  registerAuthzCheck(program, io);
  registerMetrics(program, io);
  registerWasm(program, io);
  registerRun(program, { io, stopSignal: deps.stopSignal ?? (() => new Promise<void>(() => undefined)) });
  registerUp(program, { io, registry: deps.registry, stopSignal: deps.stopSignal ?? (() => new Promise<void>(() => undefined)) });
  registerWatch(program, { io, registry: deps.registry, stopSignal: deps.stopSignal ?? (() => new Promise<void>(() => undefined)) });
  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit status. */
export function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  return runCommand(argv, deps.io, (io) => createProgram({ ...deps, io }));
}
