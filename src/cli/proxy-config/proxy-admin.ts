// Where `proxy-config` and `dashboard envoy` get their input: the proxy's admin (found by name through the
// control plane, or named directly with --admin, which leaves the control plane out), or a file saved
// from an admin (`-f`). Every failure is an IsthmusError naming the proxy, the address or the file.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { IsthmusError } from '../../lib/errors.js';
import { resolveProxy } from '../proxy-target.js';
import { parseConfigDump, type ConfigDump } from './config-dump.js';

export interface TargetOptions {
  /** host:port (or URL) of the control plane's monitoring server. */
  readonly controlPlane: string;
  /** host:port (or URL) of the proxy's admin: used as is, without asking the control plane. */
  readonly admin?: string;
  /** Namespace of a proxy name that carries none. */
  readonly namespace: string;
}

export interface AdminTarget {
  /** `pod.namespace`, as istioctl prints it. */
  readonly id: string;
  /** `http://host:port`. */
  readonly adminUrl: string;
}

/** istioctl accepts `[<type>/]<name>[.<namespace>]`; the type (pod/, deployment/) only narrows by name here. */
function stripKind(name: string): string {
  const m = /^(?:pods?|po|deployments?|deploy)\/(.+)$/.exec(name);
  return m !== null ? (m[1] ?? name) : name;
}

function urlOf(address: string): string {
  return /^https?:\/\//.test(address) ? address.replace(/\/+$/, '') : `http://${address}`;
}

/** The proxy to talk to: `name` resolved through the control plane, or the --admin address. */
export async function findTarget(name: string | undefined, o: TargetOptions): Promise<AdminTarget> {
  if (o.admin !== undefined && o.admin !== '') {
    const url = urlOf(o.admin);
    if (name === undefined || name === '') return { id: new URL(url).host, adminUrl: url };
    const bare = stripKind(name);
    return { id: bare.includes('.') ? bare : `${bare}.${o.namespace}`, adminUrl: url };
  }
  if (name === undefined || name === '') throw new IsthmusError('ISM_USAGE', 'name a proxy (<pod>[.<namespace>] or a pod-name prefix), or give --admin');
  const t = await resolveProxy(o.controlPlane, stripKind(name), { namespace: o.namespace });
  return { id: t.id, adminUrl: t.adminUrl };
}

async function adminCall(t: AdminTarget, method: 'GET' | 'POST', path: string): Promise<string> {
  const url = `${t.adminUrl}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { method });
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    throw new IsthmusError('ISM_CONNECT', `cannot reach the admin of ${t.id} at ${t.adminUrl}: ${cause} (--admin sets the address)`);
  }
  const body = await res.text();
  if (!res.ok) throw new IsthmusError('ISM_CONNECT', `${method} ${url}: HTTP ${res.status}: ${body.trim()}`);
  return body;
}

export function adminGet(t: AdminTarget, path: string): Promise<string> {
  return adminCall(t, 'GET', path);
}

/** Admin mutations are POST, as Envoy requires (a GET answers 400). */
export function adminPost(t: AdminTarget, path: string): Promise<string> {
  return adminCall(t, 'POST', path);
}

export async function readInputFile(cwd: string, file: string): Promise<string> {
  try {
    return await readFile(resolve(cwd, file), 'utf8');
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
    throw new IsthmusError('ISM_FILE_READ', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e)}`);
  }
}

/** `text` as a config dump; `what` names where it came from in the error. */
export function dumpFromText(text: string, what: string): ConfigDump {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new IsthmusError('ISM_FILE_READ', `${what} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const dump = parseConfigDump(json);
  if (dump === undefined) throw new IsthmusError('ISM_FILE_READ', `${what} is not an Envoy config dump (no "configs" list)`);
  return dump;
}

export interface DumpSourceOptions extends TargetOptions {
  readonly file?: string;
  readonly cwd: string;
}

/** The config dump of the named proxy (admin `/config_dump<query>`) or of the --file; `label` names it. */
export async function loadDump(name: string | undefined, o: DumpSourceOptions, query = ''): Promise<{ label: string; dump: ConfigDump }> {
  if (o.file !== undefined && o.file !== '') {
    if (name !== undefined && name !== '') throw new IsthmusError('ISM_USAGE', `give a proxy name or --file, not both (got "${name}" and --file ${o.file})`);
    return { label: o.file, dump: dumpFromText(await readInputFile(o.cwd, o.file), o.file) };
  }
  if ((name === undefined || name === '') && (o.admin === undefined || o.admin === '')) {
    throw new IsthmusError('ISM_USAGE', 'name a proxy (<pod>[.<namespace>] or a pod-name prefix), or give --file <config_dump.json> or --admin <host:port>');
  }
  const t = await findTarget(name, o);
  return { label: t.id, dump: dumpFromText(await adminGet(t, `/config_dump${query}`), `the config dump of ${t.id} (${t.adminUrl}/config_dump)`) };
}
