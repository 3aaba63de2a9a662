// The `--import` for a child node process a test starts on a TypeScript file: under scripts/run-tests.mjs the
// run's compiled JavaScript (scripts/test-loader: ISTHMUS_TEST_JS names it, and children inherit it), so the
// child does not start tsx and transform its modules again; otherwise (a file run alone) tsx.

import { fileURLToPath, pathToFileURL } from 'node:url';

const REGISTER = pathToFileURL(fileURLToPath(new URL('../../scripts/test-loader/register.mjs', import.meta.url))).href;

export function tsImport(): string[] {
  const compiled = process.env['ISTHMUS_TEST_JS'];
  return compiled !== undefined && compiled !== '' ? ['--import', REGISTER] : ['--import', 'tsx'];
}
