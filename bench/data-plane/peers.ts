// The native peers the data-plane bench compares against, from Debian's packages: nginx (the upstream,
// the HTTP reverse proxy and, with libnginx-mod-stream, the L4 stream proxy; each also in a cleartext
// HTTP/2 form), HAProxy (http, h2c and tcp mode), wrk and h2load. Each runs as our own child with its own config file in a temp folder (never the system
// service), one worker, keep-alive to the upstream. Finding what is installed, and the apt-get line for
// what is not, lives here too.

import { execFileSync } from 'node:child_process';
import { connect } from 'node:http2';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processTree } from './measure.js';
import { findBinary, probeTls, spawnChild, waitFor200, type Child } from './processes.js';
import type { BenchCert } from './tls-cert.js';

const READY_DEADLINE_MS = 10_000;
const STREAM_MODULE_PATHS = ['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/share/nginx/modules/ngx_stream_module.so'];

export interface Tools {
  readonly nginx?: string;
  /** The `load_module` path, or 'builtin' when nginx was compiled with the stream module. */
  readonly stream?: string;
  readonly haproxy?: string;
  readonly wrk?: string;
  readonly h2load?: string;
}

export interface MissingTool {
  readonly what: string;
  readonly aptPackage: string;
  /** Which rows go without it. */
  readonly skips: string;
}

function streamModule(nginx: string): string | undefined {
  for (const p of STREAM_MODULE_PATHS) if (existsSync(p)) return p;
  try {
    // `nginx -V` prints its configure arguments on stderr; --with-stream (not =dynamic) means built in.
    const v = execFileSync(nginx, ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (/--with-stream(\s|$)/.test(v)) return 'builtin';
  } catch (e) {
    const text = e instanceof Error && 'stderr' in e ? String(e.stderr) : '';
    if (/--with-stream(\s|$)/.test(text)) return 'builtin';
  }
  return undefined;
}

/** What is installed, and what is not with the package that provides it. */
export function findTools(): { tools: Tools; missing: MissingTool[] } {
  const nginx = findBinary('nginx');
  const stream = nginx === undefined ? undefined : streamModule(nginx);
  const haproxy = findBinary('haproxy');
  const wrk = findBinary('wrk');
  const h2load = findBinary('h2load');
  const missing: MissingTool[] = [];
  if (nginx === undefined) missing.push({ what: 'nginx', aptPackage: 'nginx', skips: 'every row (nginx is the upstream)' });
  if (stream === undefined) missing.push({ what: "nginx's stream module", aptPackage: 'libnginx-mod-stream', skips: 'L4 nginx stream' });
  if (haproxy === undefined) missing.push({ what: 'haproxy', aptPackage: 'haproxy', skips: 'haproxy, L4 haproxy tcp' });
  if (wrk === undefined) missing.push({ what: 'wrk', aptPackage: 'wrk', skips: 'h1-c50, h1-c1 (the 1k req/s run needs only Node)' });
  if (h2load === undefined) missing.push({ what: 'h2load', aptPackage: 'nghttp2-client', skips: 'h2-c10m10' });
  const tools: Tools = {
    ...(nginx !== undefined ? { nginx } : {}),
    ...(stream !== undefined ? { stream } : {}),
    ...(haproxy !== undefined ? { haproxy } : {}),
    ...(h2load !== undefined ? { h2load } : {}),
    ...(wrk !== undefined ? { wrk } : {}),
  };
  return { tools, missing };
}

/** A running peer: its processes (for CPU and RSS) and how to stop it. */
export interface Peer {
  readonly pid: number;
  pids(): number[];
  stop(): Promise<void>;
}

/** One GET / over cleartext HTTP/2 with prior knowledge: its status, or the error. */
function probeH2(port: number, timeoutMs = 1_000): Promise<number | string> {
  return new Promise((resolve) => {
    const session = connect(`http://127.0.0.1:${port}`);
    const done = (v: number | string): void => {
      session.destroy();
      resolve(v);
    };
    session.on('error', (e) => done(e.message));
    session.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    const req = session.request({ ':path': '/' });
    req.on('response', (h) => {
      req.resume();
      req.on('end', () => done(Number(h[':status'] ?? 0)));
    });
    req.on('error', (e) => done(e.message));
    req.end();
  });
}

async function ready(child: Child, port: number, logFile?: string, h2 = false, tls = false): Promise<Peer> {
  const why = await waitFor200(port, READY_DEADLINE_MS, child.isRunning, h2 ? (p) => probeH2(p) : tls ? (p) => probeTls(p) : undefined);
  if (why !== undefined) {
    await child.stop();
    const log = logFile !== undefined && existsSync(logFile) ? readFileSync(logFile, 'utf8').trim() : '';
    throw new Error(`${child.name} did not come up: ${why}\n${child.tail()}\n${log}`.trim());
  }
  return { pid: child.pid, pids: () => processTree(child.pid), stop: () => child.stop() };
}

export type NginxRole =
  | { readonly kind: 'upstream' }
  /** The upstream's answer over cleartext HTTP/2 (prior knowledge): the h2 shape's baseline. */
  | { readonly kind: 'upstream-h2' }
  | { readonly kind: 'http'; readonly upstreamPort: number }
  /** The reverse proxy taking cleartext HTTP/2 (prior knowledge), forwarding HTTP/1.1 with keep-alive. */
  | { readonly kind: 'h2'; readonly upstreamPort: number }
  | { readonly kind: 'stream'; readonly upstreamPort: number; readonly module: string }
  /** The upstream's answer over HTTPS (the TLS shape's baseline). */
  | { readonly kind: 'upstream-tls'; readonly cert: BenchCert }
  /** The reverse proxy taking cleartext HTTP/2 and forwarding it as HTTP/2 (grpc_pass, h2c to the upstream). */
  | { readonly kind: 'h2h2'; readonly upstreamPort: number }
  /** The reverse proxy terminating TLS (HTTPS in), forwarding HTTP/1.1 with keep-alive. */
  | { readonly kind: 'https'; readonly upstreamPort: number; readonly cert: BenchCert };

function nginxConfig(dir: string, listenPort: number, role: NginxRole): string {
  const head = [
    ...(role.kind === 'stream' && role.module !== 'builtin' ? [`load_module ${role.module};`] : []),
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 8192; }',
  ];
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`);
  const h2 = role.kind === 'upstream-h2' || role.kind === 'h2' || role.kind === 'h2h2';
  const tls = role.kind === 'upstream-tls' || role.kind === 'https' ? [`ssl_certificate ${role.cert.certFile};`, `ssl_certificate_key ${role.cert.keyFile};`] : [];
  const http = (server: string[], extra: string[] = []): string[] => [
    'http {',
    '  access_log off;',
    // Also how many requests an HTTP/2 connection may carry (nginx 1.19.7+; the default 1,000 would close
    // h2load's connections mid-run).
    '  keepalive_requests 1000000;',
    ...temp,
    ...extra,
    `  server {`,
    `    listen 127.0.0.1:${listenPort}${h2 ? ' http2' : ''}${tls.length > 0 ? ' ssl' : ''};`,
    ...[...tls, ...server].map((l) => `    ${l}`),
    '  }',
    '}',
  ];
  switch (role.kind) {
    case 'upstream':
    case 'upstream-h2':
    case 'upstream-tls':
      return [...head, ...http(['location / { default_type text/plain; return 200 "ok\\n"; }'])].join('\n') + '\n';
    case 'http':
    case 'h2':
    case 'https':
      return [
        ...head,
        ...http(
          ['location / {', '  proxy_pass http://upstream;', '  proxy_http_version 1.1;', '  proxy_set_header Connection "";', '}'],
          ['  upstream upstream {', `    server 127.0.0.1:${role.upstreamPort};`, '    keepalive 64;', '    keepalive_requests 1000000;', '  }'],
        ),
      ].join('\n') + '\n';
    case 'h2h2':
      // grpc_pass proxies any HTTP/2 request over h2c (nginx's only HTTP/2 upstream), with keep-alive.
      return [
        ...head,
        ...http(['location / {', '  grpc_pass grpc://upstream;', '}'], ['  upstream upstream {', `    server 127.0.0.1:${role.upstreamPort};`, '    keepalive 64;', '    keepalive_requests 1000000;', '  }']),
      ].join('\n') + '\n';
    case 'stream':
      return [...head, 'stream {', '  server {', `    listen 127.0.0.1:${listenPort};`, `    proxy_pass 127.0.0.1:${role.upstreamPort};`, '  }', '}'].join('\n') + '\n';
  }
}

/** nginx as our child (`nginx -c <file> -g 'daemon off;'`), master + one worker, answering on listenPort. */
export async function startNginx(nginx: string, dir: string, listenPort: number, role: NginxRole, core: number): Promise<Peer> {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, listenPort, role));
  const name = role.kind === 'upstream' ? 'nginx upstream' : `nginx ${role.kind}`;
  const child = await spawnChild(name, [nginx, '-p', dir, '-e', join(dir, 'error.log'), '-c', conf, '-g', 'daemon off;'], { core });
  return ready(child, listenPort, join(dir, 'error.log'), role.kind === 'h2' || role.kind === 'upstream-h2' || role.kind === 'h2h2', role.kind === 'https' || role.kind === 'upstream-tls');
}

/**
 * HAProxy as our child (`haproxy -f <file> -db`), one thread, http or tcp mode; `h2c`: HTTP/2 (prior
 * knowledge) in, HTTP/1.1 out; `h2h2`: HTTP/2 in and out (h2c to the upstream); `https`: TLS terminated with
 * `cert`, HTTP/1.1 out.
 */
export async function startHaproxy(haproxy: string, dir: string, listenPort: number, mode: 'http' | 'tcp' | 'h2c' | 'h2h2' | 'https', upstreamPort: number, core: number, cert?: BenchCert): Promise<Peer> {
  if (mode === 'https' && cert === undefined) throw new Error('haproxy https needs a certificate');
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'haproxy.cfg');
  writeFileSync(
    conf,
    [
      'global',
      '  nbthread 1',
      // HAProxy asks for about 2 descriptors per connection: stay under a common 20,000 open-file limit.
      '  maxconn 4096',
      'defaults',
      `  mode ${mode === 'tcp' ? 'tcp' : 'http'}`,
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      'frontend bench',
      `  bind 127.0.0.1:${listenPort}${mode === 'h2c' || mode === 'h2h2' ? ' proto h2' : mode === 'https' ? ` ssl crt ${cert?.pemFile ?? ''}` : ''}`,
      '  default_backend upstream',
      'backend upstream',
      `  server upstream 127.0.0.1:${upstreamPort}${mode === 'h2h2' ? ' proto h2' : ''}`,
      '',
    ].join('\n'),
  );
  const child = await spawnChild(`haproxy ${mode}`, [haproxy, '-f', conf, '-db'], { core });
  return ready(child, listenPort, undefined, mode === 'h2c' || mode === 'h2h2', mode === 'https');
}
