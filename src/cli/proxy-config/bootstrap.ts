// `proxy-config bootstrap -o short` and the head of `proxy-config all`: the versions in the dump's
// BootstrapConfigDump (istioctl configdump.go PrintBootstrapSummary): the node's ISTIO_VERSION and
// ISTIO_PROXY_SHA metadata and Envoy's user_agent_build_version, as `Label:  value` lines.

import type { ConfigDump } from './config-dump.js';
import { asObject, entry, num, obj, type JsonObject } from './json-fields.js';

/** The bootstrap message of the dump, or undefined when it has no BootstrapConfigDump. */
export function dumpBootstrap(d: ConfigDump): JsonObject | undefined {
  return obj(d.section('bootstrap'), 'bootstrap');
}

function structString(s: JsonObject | undefined, key: string): string | undefined {
  const v = entry(s, key);
  return typeof v === 'string' ? v : undefined;
}

/** The summary lines (label, value), or undefined without a bootstrap. */
export function bootstrapSummary(d: ConfigDump): [string, string][] | undefined {
  const section = d.section('bootstrap');
  if (section === undefined) return undefined;
  const node = obj(obj(section, 'bootstrap'), 'node');
  const md = asObject(obj(node, 'metadata'));
  const lines: [string, string][] = [];
  const istio = structString(md, 'ISTIO_VERSION');
  if (istio !== undefined && istio !== '') lines.push(['Istio Version:', istio]);
  const sha = structString(md, 'ISTIO_PROXY_SHA');
  if (sha !== undefined && sha !== '') lines.push(['Istio Proxy Version:', sha.includes(':') ? (sha.split(':')[1] ?? '') : sha]);
  const build = obj(node, 'user_agent_build_version');
  const v = obj(build, 'version');
  const bmd = asObject(obj(build, 'metadata'));
  let envoy = `${num(v, 'major_number')}.${num(v, 'minor_number')}.${num(v, 'patch')}`;
  const label = structString(bmd, 'build.label');
  if (label !== undefined) envoy += `-${label}`;
  for (const key of ['revision.status', 'build.type', 'ssl.version']) {
    const x = structString(bmd, key);
    if (x !== undefined) envoy += `/${x}`;
  }
  lines.push(['Envoy Version:', envoy]);
  return lines;
}

/** The summary as istioctl aligns it (one space after the longest label). */
export function renderBootstrapSummary(lines: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...lines.map(([l]) => l.length));
  return lines.map(([l, v]) => `${l.padEnd(width + 1)}${v}\n`).join('');
}
