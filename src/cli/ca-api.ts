// The CA's part of the control plane's local HTTP API (the monitoring port, bound to 127.0.0.1 by default):
//   GET  /v1/ca/root     the trusted root bundle, PEM (what proxies verify peers against)
//   POST /v1/tokens      {"namespace": "...", "serviceAccount": "..."} -> {"token": "..."}: a workload token
//                        for that identity, as Kubernetes projects one into a pod. Whoever reaches this API
//                        administers the mesh (as cluster-admin does in Kubernetes); `isthmus up` and
//                        `isthmus run` use it to give each proxy its identity.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MeshCa } from '../ca/mesh-ca.js';

const NAME_RE = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' }).end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 65_536) throw new Error('body larger than 64 KiB');
    chunks.push(c as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** Problems with a token request body, as `field: reason`. */
export function tokenRequestProblems(v: unknown): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return ['body: must be a JSON object'];
  const o = v as Record<string, unknown>;
  const problems: string[] = [];
  for (const f of ['namespace', 'serviceAccount']) {
    const x = o[f];
    if (typeof x !== 'string' || x === '') problems.push(`${f}: required`);
    else if (!NAME_RE.test(x)) problems.push(`${f}: "${x}" is not a valid Kubernetes name`);
  }
  return problems;
}

export class CaApi {
  constructor(private readonly ca: MeshCa) {}

  /** Answers the request when it is one of the CA's paths; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/v1/ca/root') {
      if (req.method !== 'GET') send(res, 405, 'use GET\n');
      else send(res, 200, this.ca.rootBundle());
      return true;
    }
    if (path !== '/v1/tokens') return false;
    if (req.method !== 'POST') {
      send(res, 405, 'use POST with {"namespace": "...", "serviceAccount": "..."}\n');
      return true;
    }
    readJson(req)
      .then(async (body) => {
        const problems = tokenRequestProblems(body);
        if (problems.length > 0) return send(res, 400, problems.join('\n') + '\n');
        const o = body as { namespace: string; serviceAccount: string };
        send(res, 200, { token: await this.ca.issueToken({ namespace: o.namespace, serviceAccount: o.serviceAccount }) });
      })
      .catch((e: unknown) => send(res, 400, `body: ${(e as Error).message}\n`));
    return true;
  }
}
