// gRPC-Web through an ingress gateway whose server port has protocol GRPC-WEB: the control plane adds
// Envoy's grpc_web filter (as Istio does for GRPC-Web ports), and a browser-style client speaking gRPC-Web
// over HTTP/1.1 reaches a real gRPC server (@grpc/grpc-js) over HTTP/2: binary and base64 (-text) bodies,
// trailers delivered as the body's last frame, a trailers-only error in the head, and a body that is not
// base64 refused with Envoy's 400 (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md,
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/grpc_web_filter).

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, Server, ServerCredentials, status, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { request as httpRequest } from 'node:http';
import { startUpstream } from '../support/data-plane.js';
import { gatewayYaml, serviceEntryYaml, startGateway, virtualServiceYaml } from './resilience-mesh.js';

const raw = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b };
const SERVICE = {
  Say: { path: '/test.Echo/Say', requestStream: false, responseStream: false, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
  Fail: { path: '/test.Echo/Fail', requestStream: false, responseStream: false, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
};

/** A gRPC-Web message frame (flag 0, big-endian length, payload). */
function frame(payload: Buffer, flag = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** A -text body: base64 in groups of four, padding allowed at the end of each frame's encoding (as grpc-web's client reads it). */
function unbase64(text: string): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i + 4 <= text.length; i += 4) out.push(Buffer.from(text.slice(i, i + 4), 'base64'));
  return Buffer.concat(out);
}

/** The frames of a gRPC-Web body: messages, and the trailer frame's `name:value` lines. */
function frames(body: Buffer): { messages: string[]; trailers: string[] } {
  const messages: string[] = [];
  let trailers: string[] = [];
  let b = body;
  while (b.length >= 5) {
    const len = b.readUInt32BE(1);
    const payload = b.subarray(5, 5 + len).toString('latin1');
    if ((b[0] ?? 0) & 0x80) trailers = payload.split('\r\n').filter((l) => l !== '');
    else messages.push(payload);
    b = b.subarray(5 + len);
  }
  return { messages, trailers };
}

it('gRPC-Web to a gRPC upstream through a GRPC-WEB gateway port (grpc_web filter)', async (t) => {
  const seen: string[] = [];
  const server = new Server();
  const impl: UntypedServiceImplementation = {
    Say: (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) => {
      seen.push(call.request.toString());
      const trailing = new Metadata();
      trailing.set('x-served-by', 'echo');
      done(null, Buffer.from(`hi ${call.request.toString()}`), trailing);
    },
    Fail: (_call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) => done({ code: status.NOT_FOUND, details: 'no such thing' }),
  };
  server.addService(SERVICE, impl);
  const grpcPort = await new Promise<number>((ok, fail) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))));
  t.after(() => server.forceShutdown());
  // A plain HTTP upstream: its answers are not gRPC.
  const plain = await startUpstream(t, 'plain', '127.0.0.1', 0, (req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end(req.url === '/plain/big' ? 'x'.repeat(20000) : 'nothing here');
  });

  const gw = await startGateway(t, (port) => ({
    'gw.yaml': gatewayYaml(port, 'GRPC-WEB'),
    'se.yaml': serviceEntryYaml('echo', [{ port: grpcPort }], { protocol: 'GRPC' }),
    'plain.yaml': serviceEntryYaml('plain', [{ port: plain.port }]),
    'vs.yaml': virtualServiceYaml(
      '  - match: [{uri: {prefix: /plain}}]\n    route: [{destination: {host: plain.example.internal, port: {number: 80}}}]\n' +
        '  - route: [{destination: {host: echo.example.internal, port: {number: 80}}}]\n',
    ),
  }));
  const call = async (path: string, body: Buffer | string, text: boolean): Promise<{ status: number; type: string; body: Buffer; grpcStatus: string | null; grpcMessage: string | null }> => {
    const r = await fetch(`http://127.0.0.1:${gw.port}${path}`, {
      method: 'POST',
      headers: { 'content-type': text ? 'application/grpc-web-text' : 'application/grpc-web+proto', ...(text ? { accept: 'application/grpc-web-text' } : {}), 'x-grpc-web': '1' },
      body,
    });
    const bytes = Buffer.from(await r.arrayBuffer());
    return { status: r.status, type: r.headers.get('content-type') ?? '', body: text && r.status === 200 ? unbase64(bytes.toString('latin1')) : bytes, grpcStatus: r.headers.get('grpc-status'), grpcMessage: r.headers.get('grpc-message') };
  };

  // Binary: the upstream gets gRPC (grpc-js answers anything but application/grpc with 415); the trailers
  // come back as the body's last frame.
  const bin = await call('/test.Echo/Say', frame(Buffer.from('binary')), false);
  assert.deepEqual([bin.status, bin.type], [200, 'application/grpc-web+proto']);
  const b = frames(bin.body);
  assert.deepEqual(b.messages, ['hi binary']);
  assert.ok(b.trailers.includes('grpc-status:0') && b.trailers.includes('x-served-by:echo'), b.trailers.join(' | '));
  assert.deepEqual(seen, ['binary']);

  // Text: the request body is base64 and so is every frame of the response.
  const txt = await call('/test.Echo/Say', frame(Buffer.from('text mode')).toString('base64'), true);
  assert.deepEqual([txt.status, txt.type], [200, 'application/grpc-web-text+proto']);
  const tf = frames(txt.body);
  assert.deepEqual(tf.messages, ['hi text mode']);
  assert.ok(tf.trailers.includes('grpc-status:0'), tf.trailers.join(' | '));

  // A trailers-only error keeps its status in the head, readable without HTTP trailers.
  const err = await call('/test.Echo/Fail', frame(Buffer.from('x')), false);
  assert.deepEqual([err.status, err.type, err.grpcStatus, err.grpcMessage], [200, 'application/grpc-web+proto', '5', 'no%20such%20thing']);

  // An upstream answer that is not gRPC keeps its status; its body becomes grpc-message (the first 16 KiB).
  const notFound = await call('/plain/x', frame(Buffer.from('x')), false);
  assert.deepEqual([notFound.status, notFound.type, notFound.grpcStatus, notFound.grpcMessage, notFound.body.length], [404, 'application/grpc-web+proto', '12', 'nothing here', 0]);
  // (A 16 KiB header is past fetch's limit: node:http reads it with a larger one.)
  const big = await new Promise<{ status: number; message: number }>((ok, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port: gw.port, method: 'POST', path: '/plain/big', maxHeaderSize: 65536, headers: { 'content-type': 'application/grpc-web+proto' } }, (res) => {
      res.resume();
      res.on('end', () => ok({ status: res.statusCode ?? 0, message: String(res.headers['grpc-message'] ?? '').length }));
    });
    req.on('error', fail);
    req.end(frame(Buffer.from('x')));
  });
  assert.deepEqual([big.status, big.message], [404, 16384]);

  // A -text body that is not whole base64 groups: Envoy's 400 local reply, which the filter turns into a
  // status a gRPC-Web client reads (grpc-status INTERNAL, the text as grpc-message, no body); the upstream
  // never sees a message.
  const before = seen.length;
  const bad = await call('/test.Echo/Say', 'abcde', true);
  assert.deepEqual([bad.status, bad.type, bad.grpcStatus, bad.grpcMessage, bad.body.length], [400, 'application/grpc-web-text+proto', '13', 'Bad gRPC-web request, invalid base64 data.', 0]);
  const log = await gw.logFor('/test.Echo/Say');
  assert.equal(log.details, 'grpc_base_64_decode_failed_bad_size');
  assert.equal(seen.length, before);
});
