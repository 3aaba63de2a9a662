// Child process: a proxyless gRPC client built on @grpc/grpc-js-xds (a client nobody here wrote). The
// bootstrap comes from GRPC_XDS_BOOTSTRAP_CONFIG (read once per process, hence a child). It reads one
// JSON command per stdin line, makes the calls through `xds:///<target>`, and answers one JSON line:
//   {"target":"reviews.default.svc.cluster.local:9080","count":100,"metadata":{"end-user":"jason"},"deadlineMs":2000}
//   -> {"servers":{"reviews-v2":100},"errors":{},"ms":[...]} (errors keyed by gRPC status code name)

import { createInterface } from 'node:readline';
import { credentials, makeGenericClientConstructor, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';

xds.register();

const identity = (b: Buffer): Buffer => b;
const Echo = makeGenericClientConstructor(
  { Echo: { path: '/isthmus.test.Echo/Echo', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
  'Echo',
);

interface Command {
  readonly target: string;
  readonly count: number;
  readonly metadata?: Record<string, string>;
  readonly deadlineMs?: number;
}

type EchoClient = InstanceType<typeof Echo> & { Echo: (req: Buffer, md: Metadata, opts: { deadline: number }, cb: (err: ServiceError | null, res?: Buffer) => void) => void };
const clients = new Map<string, EchoClient>();

function clientFor(target: string): EchoClient {
  let c = clients.get(target);
  if (c === undefined) {
    c = new Echo(`xds:///${target}`, credentials.createInsecure()) as EchoClient;
    clients.set(target, c);
  }
  return c;
}

function call(c: EchoClient, md: Metadata, deadlineMs: number): Promise<{ server?: string; code?: string; ms: number }> {
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    c.Echo(Buffer.from('ping'), md, { deadline: Date.now() + deadlineMs }, (err, res) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (err) resolve({ code: status[err.code] ?? String(err.code), ms });
      else resolve({ server: (JSON.parse(res?.toString() ?? '{}') as { server: string }).server, ms });
    });
  });
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  void (async () => {
    const cmd = JSON.parse(line) as Command;
    const md = new Metadata();
    for (const [k, v] of Object.entries(cmd.metadata ?? {})) md.set(k, v);
    const servers: Record<string, number> = {};
    const errors: Record<string, number> = {};
    const ms: number[] = [];
    const c = clientFor(cmd.target);
    for (let i = 0; i < cmd.count; i++) {
      const r = await call(c, md, cmd.deadlineMs ?? 5000);
      ms.push(Math.round(r.ms));
      if (r.server !== undefined) servers[r.server] = (servers[r.server] ?? 0) + 1;
      else if (r.code !== undefined) errors[r.code] = (errors[r.code] ?? 0) + 1;
    }
    process.stdout.write(JSON.stringify({ servers, errors, ms }) + '\n');
  })();
});
rl.on('close', () => process.exit(0));
