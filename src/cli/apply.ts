// `isthmus apply -f <file|folder|url|->` and `isthmus delete -f ...`: change a running mesh's config, as
// `kubectl apply` / `kubectl delete` do, through the control plane's /v1/config (src/cli/config-api.ts).
// The control plane validates every document first; when any is invalid nothing changes and each problem
// is printed (exit 1). Folders are read recursively (.yaml, .yml, .json); `-` reads stdin; http(s) URLs
// are fetched, so Istio's sample URLs work as they do with kubectl.

import type { Command } from 'commander';
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { listConfigFiles } from '../config/read-files.js';
import { IsthmusError } from '../lib/errors.js';
import { parseOutputFormat, renderData, type CliIO } from './output.js';
import { controlPlaneFetch } from './proxy-target.js';

interface Source {
  readonly name: string;
  readonly text: string;
}

async function readSources(io: CliIO, files: readonly string[]): Promise<Source[]> {
  const out: Source[] = [];
  for (const f of files) {
    if (f === '-') {
      out.push({ name: 'stdin', text: await io.stdin() });
      continue;
    }
    if (/^https?:\/\//.test(f)) {
      let res: Response;
      try {
        res = await fetch(f, { signal: AbortSignal.timeout(15_000) });
      } catch (e) {
        throw new IsthmusError('ISM_FILE_READ', `cannot fetch ${f}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!res.ok) throw new IsthmusError('ISM_FILE_READ', `cannot fetch ${f}: HTTP ${res.status}`);
      out.push({ name: basename(new URL(f).pathname), text: await res.text() });
      continue;
    }
    const path = resolve(io.cwd, f);
    const st = await stat(path).catch(() => undefined);
    if (st === undefined) throw new IsthmusError('ISM_FILE_READ', `cannot read ${f}: no such file or folder`);
    const paths = st.isDirectory() ? await listConfigFiles(path) : [path];
    for (const p of paths) out.push({ name: p === path ? f : p, text: await readFile(p, 'utf8') });
  }
  return out;
}

async function send(controlPlane: string, method: 'POST' | 'DELETE', s: Source, dryRun: boolean): Promise<{ ok: boolean; lines: string[] }> {
  const res = await controlPlaneFetch(controlPlane, `/v1/config?file=${encodeURIComponent(s.name)}${dryRun ? '&dryRun=true' : ''}`, { method, body: s.text, headers: { 'content-type': 'application/yaml' } });
  const body = await res.text();
  return { ok: res.ok, lines: body.split('\n').filter((l) => l !== '') };
}

function register(program: Command, io: CliIO, verb: 'apply' | 'delete'): void {
  program
    .command(verb)
    .description(verb === 'apply' ? 'Apply config to a running mesh (validated first; nothing changes when any document is invalid)' : 'Delete config that `isthmus apply` added to a running mesh')
    .requiredOption('-f, --filename <path...>', 'files, folders (recursive), http(s) URLs, or - for stdin')
    .option('--control-plane <host:port>', 'the control plane monitoring address', '127.0.0.1:15014')
    .option('--dry-run', 'validate and report what would change, change nothing')
    .option('-o, --output <format>', 'table (kubectl-style lines), json or yaml', 'table')
    .addHelpText(
      'after',
      verb === 'apply'
        ? `
Applied objects replace the folder's objects of the same name while the mesh runs; \`isthmus delete\`
brings the folder's version back. Edit the folder itself for lasting changes (they also apply live).

Examples:
  isthmus apply -f samples/bookinfo/networking/virtual-service-all-v1.yaml
  isthmus apply -f https://raw.githubusercontent.com/istio/istio/master/samples/bookinfo/networking/virtual-service-reviews-50-v3.yaml
  cat vs.yaml | isthmus apply -f -`
        : `
Only objects added with \`isthmus apply\` can be deleted; for the folder's own objects, edit the folder.

Examples:
  isthmus delete -f samples/bookinfo/networking/virtual-service-all-v1.yaml`,
    )
    .action(async (opts: { filename: string[]; controlPlane: string; dryRun?: boolean; output: string }) => {
      const format = parseOutputFormat(opts.output);
      const sources = await readSources(io, opts.filename);
      const results: { file: string; ok: boolean; lines: string[] }[] = [];
      for (const s of sources) {
        const r = await send(opts.controlPlane, verb === 'apply' ? 'POST' : 'DELETE', s, opts.dryRun === true);
        results.push({ file: s.name, ...r });
        if (format === 'table') for (const l of r.lines) (r.ok ? io.stdout : io.stderr)(`${r.ok ? '' : 'error: '}${l}\n`);
      }
      if (format !== 'table') io.stdout(renderData(results, format));
      if (results.some((r) => !r.ok)) io.setExitCode(1);
    });
}

export function registerApply(program: Command, io: CliIO): void {
  register(program, io, 'apply');
  register(program, io, 'delete');
}
