// `isthmus proxy --bootstrap <file>`: the data plane. Reads an Envoy bootstrap (what `isthmus bootstrap`
// prints), fetches its config over ADS and serves traffic from it, with Envoy's admin (config_dump,
// clusters, listeners, stats, logging, ready, server_info), istio-agent's readiness (/healthz/ready) and
// Prometheus (:15090). SIGTERM drains: listeners close, in-flight requests finish, then the process exits.
// `--concurrency N` (Envoy's flag) runs N worker processes that share the listeners, with this process
// as their primary (src/proxy/workers/primary.ts); 1, the default, is the single-process proxy.

import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { availableParallelism, tmpdir, userInfo } from 'node:os';
import { IsthmusError } from '../lib/errors.js';
import { readBootstrap } from '../proxy/bootstrap.js';
import { startProxy, type ProxyIdentityOptions } from '../proxy/proxy.js';
import { startPrimary } from '../proxy/workers/primary.js';
import { createSwitchableLogger } from '../lib/logger.js';
import type { CliIO } from './output.js';

function port(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new IsthmusError('ISM_USAGE', `invalid ${name} "${v}": must be a port number 0-65535`);
  return n;
}

/** Envoy's --concurrency: 0 means one worker per core. */
function concurrency(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 1024) throw new IsthmusError('ISM_USAGE', `invalid --concurrency "${v}": must be a whole number of workers (0 = one per core)`);
  return n === 0 ? availableParallelism() : n;
}

/** `8080=18080,8443=18443` -> pairs; a malformed pair is a usage error naming it. */
export function parsePortMap(v: string): [number, number][] {
  return v.split(',').filter((p) => p.trim() !== '').map((pair) => {
    const [from, to, extra] = pair.split('=');
    if (from === undefined || to === undefined || extra !== undefined) throw new IsthmusError('ISM_USAGE', `invalid --port-map entry "${pair}": want <listener port>=<bound port>`);
    return [port('--port-map', from.trim()), port('--port-map', to.trim())];
  });
}

/** --token-file, --ca-address and --cert-ttl as the proxy's identity options; undefined without a token file. */
/** istio-agent keeps pulled modules in a cache folder; here one per user under the system's temp folder. */
export function defaultWasmCacheDir(): string {
  return join(tmpdir(), `isthmus-wasm-cache-${userInfo().uid}`);
}

export function identityOptions(cwd: string, o: { tokenFile?: string; caAddress?: string; certTtl?: string }): ProxyIdentityOptions | undefined {
  if (o.tokenFile === undefined) {
    if (o.caAddress !== undefined || o.certTtl !== undefined) throw new IsthmusError('ISM_USAGE', '--ca-address and --cert-ttl need --token-file');
    return undefined;
  }
  const file = resolve(cwd, o.tokenFile);
  let ttl: number | undefined;
  if (o.certTtl !== undefined) {
    ttl = Number(o.certTtl);
    if (!Number.isInteger(ttl) || ttl < 1) throw new IsthmusError('ISM_USAGE', `invalid --cert-ttl "${o.certTtl}": must be a whole number of seconds`);
  }
  if (o.caAddress !== undefined && !/^[^\s:]+:\d+$|^\[[0-9a-fA-F:.]+\]:\d+$/.test(o.caAddress)) throw new IsthmusError('ISM_USAGE', `invalid --ca-address "${o.caAddress}": must be host:port`);
  return {
    token: () => readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => Promise.reject(new Error(`cannot read the token file ${file}: ${e.code ?? e.message}`))),
    ...(o.caAddress !== undefined ? { caAddress: o.caAddress } : {}),
    ...(ttl !== undefined ? { certTtlSeconds: ttl } : {}),
  };
}

export interface ProxyDeps {
  readonly io: CliIO;
  readonly stopSignal: () => Promise<void>;
}

export function registerProxy(program: Command, deps: ProxyDeps): void {
  const { io } = deps;
  program
    .command('proxy')
    .description('Run the Isthmus proxy: serve traffic as a sidecar or gateway from config fetched over xDS (ADS)')
    .requiredOption('--bootstrap <file>', 'an Envoy bootstrap JSON file (isthmus bootstrap prints one)')
    .option('--admin-port <port>', "admin port (default: the bootstrap's admin address; 0 picks a free one)")
    .option('--readiness-port <port>', 'readiness port for /healthz/ready (0 picks a free one)', '15021')
    .option('--prometheus-port <port>', 'Prometheus port for /stats/prometheus (0 picks a free one)', '15090')
    .option('--capture-address <ip>', 'sidecar capture without iptables: serve the outbound listener as an HTTP proxy (HTTP_PROXY) and the inbound ports on this address')
    .option('--bind-address <ip>', 'bind listeners whose address is 0.0.0.0 or :: on this address instead (for example 127.0.0.1)')
    .option('--app-address <ip>', "a sidecar's app address: endpoints on 127.0.0.1 (the inbound clusters) go here instead, as a pod's own loopback")
    .option('--port-map <pairs>', 'bind listener ports elsewhere: 8080=18080,8443=18443 (matching still sees the listener port)')
    .option('--drain-time <seconds>', 'on SIGTERM, how long in-flight requests may take to finish', '5')
    .option('--log-level <level>', 'debug, info, warn, error or off (admin POST /logging?level= changes it)', 'warn')
    .option('--concurrency <n>', 'worker processes sharing the listeners, as Envoy\'s workers (0 = one per core; 1 = a single process)', '1')
    .option('--token-file <file>', "the workload's token (Istio: /var/run/secrets/tokens/istio-token): with it the proxy gets its mTLS certificate from the CA")
    .option('--ca-address <host:port>', "the CA's gRPC address (default: the xDS server's)")
    .option('--cert-ttl <seconds>', 'workload certificate lifetime to ask the CA for (default: the CA\'s, 24h); renewed at half-life')
    .option('--wasm-cache-dir <dir>', 'where Wasm modules pulled from oci:// and http(s):// URLs are cached (istio-agent\'s WASM_CACHE_DIR)', defaultWasmCacheDir())
    .option('--insecure-registry <hosts>', 'comma-separated registries reached over TLS without verification (Istio: WASM_INSECURE_REGISTRIES); loopback registries may use plain HTTP')
    .addHelpText(
      'after',
      `
Identity: with --token-file the proxy makes a key (it never leaves the process), sends a CSR with the token
to the CA (istio.v1.auth.IstioCertificateService), and serves the certificate as the SDS secrets \`default\` and
\`ROOTCA\` that Istio's mTLS contexts name; \`isthmus up\` gives every pod's proxy a token. Without it, mTLS
contexts have no certificate and only plaintext chains serve.
Admin endpoints: /config_dump /clusters /listeners /stats /stats/prometheus /logging /ready /server_info
Readiness: /healthz/ready answers 200 once the first config is applied and its listeners are bound, 503 before.
Invalid config is NACKed with every problem listed; the last good config keeps serving.
With --concurrency N, this process keeps the one xDS stream and the admin servers and relays config to N
workers; /stats sums theirs and adds listener.<address>.worker_<id>.downstream_cx_total per worker.
Outlier detection and circuit breaker limits are the whole proxy's, as with Envoy's workers: this process
runs the detectors and keeps the breakers' ledger for all workers.

Examples:
  # a sidecar: apps set HTTP_PROXY=http://127.0.0.11:15001; other proxies reach it on 127.0.0.11:<port>
  isthmus bootstrap --node reviews-v1 --ip 127.0.0.11 --labels app=reviews,version=v1 > bootstrap.json
  isthmus proxy --bootstrap bootstrap.json --capture-address 127.0.0.11
  # an ingress gateway on this machine only
  isthmus bootstrap --type router --node ingressgateway -n istio-system --labels istio=ingressgateway > gw.json
  isthmus proxy --bootstrap gw.json --bind-address 127.0.0.1 --admin-port 0 --readiness-port 0 --prometheus-port 0`,
    )
    .action(async (opts: { bootstrap: string; adminPort?: string; readinessPort: string; prometheusPort: string; captureAddress?: string; bindAddress?: string; appAddress?: string; portMap?: string; drainTime: string; logLevel: string; concurrency: string; tokenFile?: string; caAddress?: string; certTtl?: string; wasmCacheDir: string; insecureRegistry?: string }) => {
      const bootstrap = await readBootstrap(resolve(io.cwd, opts.bootstrap));
      const drainSeconds = Number(opts.drainTime);
      if (!Number.isFinite(drainSeconds) || drainSeconds < 0) throw new IsthmusError('ISM_USAGE', `invalid --drain-time "${opts.drainTime}": must be a number of seconds`);
      const logger = createSwitchableLogger('warn', (l) => io.stderr(l + '\n'));
      if (!logger.setLevel(opts.logLevel)) throw new IsthmusError('ISM_USAGE', `invalid --log-level "${opts.logLevel}": must be one of debug, info, warn, error, off`);
      const workers = concurrency(opts.concurrency);
      const stopped = deps.stopSignal();
      const common = {
        bootstrap,
        logger,
        setLogLevel: (l: string) => logger.setLevel(l),
        ...(opts.adminPort !== undefined ? { adminPort: port('--admin-port', opts.adminPort) } : {}),
        readinessPort: port('--readiness-port', opts.readinessPort),
        prometheusPort: port('--prometheus-port', opts.prometheusPort),
        ...(opts.captureAddress !== undefined ? { captureAddress: opts.captureAddress } : {}),
        ...(opts.bindAddress !== undefined ? { bindAddress: opts.bindAddress } : {}),
        ...(opts.appAddress !== undefined ? { appAddress: opts.appAddress } : {}),
        ...(opts.portMap !== undefined ? { portMap: parsePortMap(opts.portMap) } : {}),
        wasm: {
          cacheDir: resolve(io.cwd, opts.wasmCacheDir),
          insecureRegistries: (opts.insecureRegistry ?? '').split(',').map((h) => h.trim()).filter((h) => h !== ''),
          hostEnv: (k: string) => process.env[k],
        },
      };
      const identity = identityOptions(io.cwd, opts);
      const primary = workers > 1 ? await startPrimary({ ...common, concurrency: workers, logLevel: opts.logLevel, ...(identity !== undefined ? { identity } : {}) }) : undefined;
      const proxy = primary ?? (await startProxy({ ...common, ...(identity !== undefined ? { identity } : {}) }));
      io.stdout(`proxy ${bootstrap.nodeId} fetching config from ${bootstrap.xdsAddress}\n`);
      io.stdout(`  admin       ${proxy.adminUrl}\n`);
      io.stdout(`  readiness   ${proxy.readinessUrl}\n`);
      io.stdout(`  prometheus  ${proxy.prometheusUrl}\n`);
      if (primary !== undefined) io.stdout(`  workers     ${workers} (pids ${primary.workerPids().join(' ')})\n`);
      if (opts.captureAddress !== undefined) io.stdout(`  capture     ${opts.captureAddress} (apps: HTTP_PROXY=http://${opts.captureAddress}:15001)\n`);
      await stopped;
      io.stdout('draining\n');
      await proxy.drain(drainSeconds * 1000);
      io.stdout('stopped\n');
    });
}
