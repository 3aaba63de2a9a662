// Validation of one decoded object: header (apiVersion, kind, metadata), then the kind's schema, then
// the kind's semantic checks. Every issue is collected. Pure: no I/O, no clock.

import { at, error, hasErrors, prefixIssues, type Issue } from '../lib/issue.js';
import type { AnyKind, KindRegistry } from './kind.js';
import { labelKeyErrors, labelValueErrors, nameErrors } from './names.js';
import { groupOf, versionOf, ObjectMetaSchema, type Resource } from './resource.js';
import { parseCollecting } from './schema.js';

export const DEFAULT_NAMESPACE = 'default';

export interface ValidateOptions {
  /** Namespace given to namespaced objects that name none (kubectl's `-n`); default `default`. */
  readonly defaultNamespace?: string;
}

export type ValidationOutcome =
  | {
      readonly ok: true;
      readonly resource: Resource<unknown>;
      readonly descriptor: AnyKind;
      readonly warnings: readonly Issue[];
    }
  | {
      readonly ok: false;
      readonly issues: readonly Issue[];
      /** Present when the header was readable, so reports can name the object. */
      readonly descriptor?: AnyKind;
      readonly header?: { readonly apiVersion: string; readonly kind: string; readonly name?: string; readonly namespace?: string };
    };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function validateObject(raw: unknown, registry: KindRegistry, opts: ValidateOptions = {}): ValidationOutcome {
  if (!isRecord(raw)) return { ok: false, issues: [error('', 'a resource must be an object with apiVersion, kind and metadata')] };
  const issues: Issue[] = [];
  const apiVersion = raw['apiVersion'];
  const kind = raw['kind'];
  if (typeof apiVersion !== 'string' || apiVersion === '') issues.push(error('apiVersion', 'required field is missing'));
  if (typeof kind !== 'string' || kind === '') issues.push(error('kind', 'required field is missing'));
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || issues.length > 0) return { ok: false, issues };

  const meta = raw['metadata'];
  const metaName = isRecord(meta) && typeof meta['name'] === 'string' ? meta['name'] : undefined;
  const metaNs = isRecord(meta) && typeof meta['namespace'] === 'string' ? meta['namespace'] : undefined;
  const header = { apiVersion, kind, ...(metaName !== undefined ? { name: metaName } : {}), ...(metaNs !== undefined ? { namespace: metaNs } : {}) };

  const group = groupOf(apiVersion);
  const version = versionOf(apiVersion);
  const descriptor = registry.byGroupKind(group, kind);
  if (descriptor === undefined) {
    const sameName = registry.byKindName(kind);
    const hint =
      sameName.length > 0
        ? `; ${kind} is served by ${sameName.map((d) => `${d.group === '' ? '' : d.group + '/'}${d.versions[0] ?? ''}`).join(', ')}`
        : '';
    return { ok: false, issues: [error('kind', `unknown kind "${kind}" in apiVersion "${apiVersion}"${hint}`)], header };
  }
  if (!descriptor.versions.includes(version)) {
    const prefix = group === '' ? '' : group + '/';
    return {
      ok: false,
      descriptor,
      header,
      issues: [
        error('apiVersion', `version "${version}" of ${kind} is not served; use one of ${descriptor.versions.map((v) => prefix + v).join(', ')}`),
      ],
    };
  }

  // metadata
  const metaParse = parseCollecting(ObjectMetaSchema, meta ?? {}, 'metadata');
  issues.push(...metaParse.issues);
  if (metaName === undefined || metaName === '') issues.push(error('metadata.name', 'Required value: name or generateName is required'));
  else for (const m of nameErrors(metaName, descriptor.nameRule)) issues.push(error('metadata.name', `Invalid value: "${metaName}": ${m}`));
  let namespace: string | undefined;
  if (descriptor.namespaced) {
    namespace = metaNs ?? opts.defaultNamespace ?? DEFAULT_NAMESPACE;
    for (const m of nameErrors(namespace, 'dns1123-label')) issues.push(error('metadata.namespace', `Invalid value: "${namespace}": ${m}`));
  } else if (metaNs !== undefined) {
    issues.push(error('metadata.namespace', `Forbidden: not allowed on this type (${kind} is cluster-scoped)`));
  }
  const labels = metaParse.value?.labels ?? {};
  for (const [k, v] of Object.entries(labels)) {
    for (const m of labelKeyErrors(k)) issues.push(error(at('metadata.labels', k), `Invalid value: "${k}": ${m}`));
    for (const m of labelValueErrors(v)) issues.push(error(at('metadata.labels', k), `Invalid value: "${v}": ${m}`));
  }

  // body
  const { apiVersion: _a, kind: _k, metadata: _m, ...body } = raw;
  const bodyParse = parseCollecting(descriptor.body, body, '');
  issues.push(...bodyParse.issues);

  if (bodyParse.value !== undefined && metaParse.value !== undefined) {
    const metadata = { ...metaParse.value, name: metaName ?? '', ...(namespace !== undefined ? { namespace } : {}) };
    const resource = { apiVersion, kind, metadata, ...(bodyParse.value as Record<string, unknown>) } as Resource<unknown>;
    if (descriptor.validate !== undefined) issues.push(...prefixIssues('', descriptor.validate(resource as never, { namespace })));
    if (!hasErrors(issues)) {
      return { ok: true, resource: deepFreeze(resource), descriptor, warnings: issues };
    }
  }
  return { ok: false, issues, descriptor, header };
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as Record<string, unknown>)) deepFreeze(x);
  }
  return v;
}
