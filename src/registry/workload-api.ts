// The control plane's workload registration API, how the local mesh (`isthmus up`, `isthmus run`) adds
// workloads at run time. JSON over HTTP on the control plane's monitoring port:
//   GET    /v1/workloads                        every registered workload
//   POST   /v1/workloads                        register (body: LocalWorkloadSpec); 200 with the workload
//   DELETE /v1/workloads/<namespace>/<name>     deregister; 404 when unknown
//   PUT    /v1/workloads/<namespace>/<name>/health   body {"health":"HEALTHY"|"UNHEALTHY"|"DRAINING"}
// Bad input gets 400 naming the field and reason, and changes nothing.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { LocalWorkloads, LocalWorkloadSpec } from './local-workloads.js';
import type { HealthStatus } from './types.js';

export const WORKLOADS_PATH = '/v1/workloads';

const HEALTH: readonly HealthStatus[] = ['HEALTHY', 'UNHEALTHY', 'DRAINING'];
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body + '\n' : JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 1 << 20) throw new Error('body larger than 1 MiB');
    chunks.push(c as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** The spec, or the problems with it as `field: reason` lines. */
export function parseWorkloadSpec(v: unknown): { ok: true; spec: LocalWorkloadSpec } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, problems: ['body: must be a JSON object'] };
  const o = v as Record<string, unknown>;
  const name = o['name'];
  const namespace = o['namespace'] ?? 'default';
  if (typeof name !== 'string' || !DNS1123_LABEL.test(name)) problems.push('name: must be a DNS-1123 label (lower case letters, digits and -)');
  if (typeof namespace !== 'string' || !DNS1123_LABEL.test(namespace)) problems.push('namespace: must be a DNS-1123 label');
  if (typeof o['address'] !== 'string' || isIP(o['address']) === 0) problems.push('address: must be an IP address');
  if (o['labels'] !== undefined && !isStringMap(o['labels'])) problems.push('labels: must map strings to strings');
  if (o['serviceAccount'] !== undefined && typeof o['serviceAccount'] !== 'string') problems.push('serviceAccount: must be a string');
  const ports = o['ports'];
  if (ports !== undefined) {
    if (typeof ports !== 'object' || ports === null || Array.isArray(ports)) problems.push('ports: must map port names to numbers');
    else for (const [k, p] of Object.entries(ports)) if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) problems.push(`ports.${k}: must be a port number 1-65535`);
  }
  if (o['tlsMode'] !== undefined && o['tlsMode'] !== 'istio' && o['tlsMode'] !== 'disabled') problems.push('tlsMode: must be "istio" or "disabled"');
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    spec: {
      name: name as string,
      namespace: namespace as string,
      address: o['address'] as string,
      ...(o['labels'] !== undefined ? { labels: o['labels'] as Record<string, string> } : {}),
      ...(o['serviceAccount'] !== undefined ? { serviceAccount: o['serviceAccount'] as string } : {}),
      ...(ports !== undefined ? { ports: ports as Record<string, number> } : {}),
      ...(o['tlsMode'] !== undefined ? { tlsMode: o['tlsMode'] as 'istio' | 'disabled' } : {}),
    },
  };
}

/** Handles a request under /v1/workloads; returns false when the path is not this API's. */
export function handleWorkloadRequest(local: LocalWorkloads, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname !== WORKLOADS_PATH && !url.pathname.startsWith(WORKLOADS_PATH + '/')) return false;
  const parts = url.pathname.slice(WORKLOADS_PATH.length).split('/').filter((p) => p !== '');
  void (async () => {
    try {
      if (parts.length === 0 && req.method === 'GET') return reply(res, 200, local.list());
      if (parts.length === 0 && req.method === 'POST') {
        const parsed = parseWorkloadSpec(await readJson(req));
        if (!parsed.ok) return reply(res, 400, `invalid workload: ${parsed.problems.join('; ')}`);
        return reply(res, 200, local.register(parsed.spec));
      }
      const [ns, name, sub] = parts;
      if (parts.length === 2 && req.method === 'DELETE' && ns !== undefined && name !== undefined) {
        return local.deregister(ns, name) ? reply(res, 200, { deleted: `${ns}/${name}` }) : reply(res, 404, `workload ${ns}/${name} is not registered`);
      }
      if (parts.length === 3 && sub === 'health' && req.method === 'PUT' && ns !== undefined && name !== undefined) {
        const body = (await readJson(req)) as { health?: unknown };
        if (!HEALTH.includes(body.health as HealthStatus)) return reply(res, 400, `invalid health ${JSON.stringify(body.health)}: must be one of ${HEALTH.join(', ')}`);
        return local.setHealth(ns, name, body.health as HealthStatus) ? reply(res, 200, local.get(ns, name)) : reply(res, 404, `workload ${ns}/${name} is not registered`);
      }
      return reply(res, 405, `${req.method ?? ''} ${url.pathname} is not supported (GET|POST ${WORKLOADS_PATH}, DELETE ${WORKLOADS_PATH}/<ns>/<name>, PUT ${WORKLOADS_PATH}/<ns>/<name>/health)`);
    } catch (e) {
      reply(res, 400, `invalid request body: ${e instanceof Error ? e.message : String(e)}`);
    }
  })();
  return true;
}
