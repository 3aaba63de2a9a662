// The data-plane bench's control plane: `isthmus control-plane` with one MeshConfig change, an access log
// file, so the gateway under test pays for access logging as a production Istio gateway does (MeshConfig
// accessLogFile with Istio's default TEXT format). The `control-plane` command has no MeshConfig option,
// hence this launcher. It runs on the load core and idles while load runs; only the proxy is measured.
// Usage: node --import tsx bench/data-plane/bench-control-plane.ts <config folder> <access log file>
// Prints the same "xDS (ADS, plaintext)" line as the command; stops on SIGTERM or SIGINT.

import { ALL_KINDS } from '../../src/api/kinds.js';
import { createKindRegistry } from '../../src/api/kind.js';
import { startControlPlane } from '../../src/cli/control-plane.js';
import { DEFAULT_MESH_CONFIG } from '../../src/model/mesh-config.js';

const [configDir, accessLogFile] = process.argv.slice(2);
if (configDir === undefined || accessLogFile === undefined) {
  process.stderr.write('usage: bench-control-plane.ts <config folder> <access log file>\n');
  process.exit(2);
}
const stopped = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});
const cp = await startControlPlane({
  configDir,
  registry: createKindRegistry(ALL_KINDS),
  xdsPort: 0,
  monitoringPort: 0,
  mesh: { ...DEFAULT_MESH_CONFIG, accessLogFile },
  onProblem: (line) => process.stderr.write(`  ! ${line}\n`),
});
process.stdout.write(`  xDS (ADS, plaintext)  ${cp.xdsAddress}\n`);
await stopped;
await cp.close();
