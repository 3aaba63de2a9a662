// `npm run bench`: every benchmark, printed as it runs. Separate from `npm test`: timings depend on the
// machine and belong here, never in pass/fail tests. `npm run bench -- control-plane` runs one.

import { benchControlPlane } from './control-plane.js';

const BENCHES: Record<string, (log: (line: string) => void) => Promise<void>> = {
  'control-plane': benchControlPlane,
  'data-plane': (log) => import('./data-plane/run-data-plane.js').then((m) => m.benchDataPlane(log)),
  up: (log) => import('./up.js').then((m) => m.benchUp(log)),
  wasm: (log) => import('./wasm.js').then((m) => m.benchWasm(log)),
};

const only = process.argv.slice(2);
for (const [name, run] of Object.entries(BENCHES)) {
  if (only.length > 0 && !only.includes(name)) continue;
  await run((line) => process.stdout.write(line + '\n'));
}
