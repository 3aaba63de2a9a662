// A real gRPC server standing in for a service's workload in interop tests: one generic unary method,
// `/isthmus.test.Echo/Echo`, answering with its own name and the request metadata as JSON. Raw bytes on
// the wire (identity serializers), so neither side needs a .proto.

import { Server, ServerCredentials, status, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';

export const ECHO_METHOD = '/isthmus.test.Echo/Echo';

const identity = (b: Buffer): Buffer => b;

export interface EchoServer {
  readonly name: string;
  readonly port: number;
  /** Calls served so far. */
  readonly calls: () => number;
  close(): Promise<void>;
}

export interface EchoOptions {
  /** Answer every call with this gRPC status instead (for retry tests). */
  readonly failWith?: status;
  /** Fail the first N calls with UNAVAILABLE, then succeed (for retry tests). */
  readonly failFirst?: number;
}

export async function startEchoServer(name: string, opts: EchoOptions = {}): Promise<EchoServer> {
  const server = new Server();
  let calls = 0;
  const impl: UntypedServiceImplementation = {
    Echo(call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) {
      calls++;
      if (opts.failWith !== undefined) return cb({ code: opts.failWith, details: `${name} fails` });
      if (opts.failFirst !== undefined && calls <= opts.failFirst) return cb({ code: status.UNAVAILABLE, details: `${name} not yet` });
      const md: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) md[k] = String(v);
      cb(null, Buffer.from(JSON.stringify({ server: name, metadata: md })));
    },
  };
  server.addService(
    { Echo: { path: ECHO_METHOD, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
    impl,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    name,
    port,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
