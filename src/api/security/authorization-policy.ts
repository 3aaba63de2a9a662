// security.istio.io AuthorizationPolicy: schema (istio/api security/v1beta1/authorization_policy.proto) and
// Istio's validation (ValidateAuthorizationPolicy and checkDryRunAnnotation in
// pkg/config/validation/validation.go, with the value checks of pkg/config/security/security.go).
// Defaults: `action` unset is ALLOW (effectiveAction); the `istio.io/dry-run` annotation is read with Go's
// strconv.ParseBool and anything unparsable counts as false (isDryRun, as pilot/pkg/security/authz/builder).

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { PolicyTargetReferenceSchema, selectorAndTargetRefIssues, WorkloadSelectorSchema } from '../istio-common.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { enumOf, obj, z } from '../schema.js';
import { isIPAddress } from '../validation/common.js';

export const AUTHORIZATION_ACTIONS = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const;
export type AuthorizationAction = (typeof AUTHORIZATION_ACTIONS)[number];

const strings = z.array(z.string());

export const SourceSchema = obj({
  principals: strings.optional(),
  notPrincipals: strings.optional(),
  requestPrincipals: strings.optional(),
  notRequestPrincipals: strings.optional(),
  namespaces: strings.optional(),
  notNamespaces: strings.optional(),
  serviceAccounts: strings.optional(),
  notServiceAccounts: strings.optional(),
  ipBlocks: strings.optional(),
  notIpBlocks: strings.optional(),
  remoteIpBlocks: strings.optional(),
  notRemoteIpBlocks: strings.optional(),
  trustDomains: strings.optional(),
  notTrustDomains: strings.optional(),
});
export type Source = z.infer<typeof SourceSchema>;

export const OperationSchema = obj({
  hosts: strings.optional(),
  notHosts: strings.optional(),
  ports: strings.optional(),
  notPorts: strings.optional(),
  methods: strings.optional(),
  notMethods: strings.optional(),
  paths: strings.optional(),
  notPaths: strings.optional(),
});
export type Operation = z.infer<typeof OperationSchema>;

/** `key` is REQUIRED in the proto; left optional here so Istio's own message reports it. */
export const ConditionSchema = obj({
  key: z.string().optional(),
  values: strings.optional(),
  notValues: strings.optional(),
});
export type Condition = z.infer<typeof ConditionSchema>;

export const RuleFromSchema = obj({ source: SourceSchema.optional() });
export const RuleToSchema = obj({ operation: OperationSchema.optional() });

/** CRD limits: `rules` and `from` have +kubebuilder:validation:MaxItems=512. */
export const RuleSchema = obj({
  from: z.array(RuleFromSchema).max(512).optional(),
  to: z.array(RuleToSchema).optional(),
  when: z.array(ConditionSchema).optional(),
});
export type Rule = z.infer<typeof RuleSchema>;

export const ExtensionProviderSchema = obj({ name: z.string().optional() });

export const AuthorizationPolicySpecSchema = obj({
  selector: WorkloadSelectorSchema.optional(),
  targetRef: PolicyTargetReferenceSchema.optional(),
  targetRefs: z.array(PolicyTargetReferenceSchema).max(16).optional(),
  rules: z.array(RuleSchema).max(512).optional(),
  action: enumOf(AUTHORIZATION_ACTIONS).optional(),
  provider: ExtensionProviderSchema.optional(),
});
export type AuthorizationPolicySpec = z.infer<typeof AuthorizationPolicySpecSchema>;

const BodySchema = obj({ spec: AuthorizationPolicySpecSchema.default({}), status: z.unknown().optional() });
export type AuthorizationPolicyBody = z.infer<typeof BodySchema>;
export type AuthorizationPolicy = Resource<AuthorizationPolicyBody>;

export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

/** The action Istio applies: ALLOW when unset (proto3 zero value). */
export function effectiveAction(ap: AuthorizationPolicy): AuthorizationAction {
  return ap.spec.action ?? 'ALLOW';
}

/** Go's strconv.ParseBool. */
export function parseGoBool(val: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(val)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(val)) return false;
  return undefined;
}

/** True when the policy carries `istio.io/dry-run` with a true value (shadow evaluation only). */
export function isDryRun(ap: AuthorizationPolicy): boolean {
  const val = ap.metadata.annotations?.[DRY_RUN_ANNOTATION];
  return val !== undefined && parseGoBool(val) === true;
}

// ---- value checks of istio pkg/config/security/security.go ----

/** netip.ParseAddr-style reason (approximate wording for the address part). */
function parseAddrReason(s: string): string | undefined {
  if (isIPAddress(s)) return undefined;
  if (s === '') return 'ParseAddr(""): unable to parse IP';
  return `ParseAddr(${JSON.stringify(s)}): unable to parse IP`;
}

/** security.ValidateIPs: one message per bad entry. */
export function ipErrors(ip: string): string | undefined {
  if (ip.includes('/')) {
    const slash = ip.lastIndexOf('/');
    const addr = ip.slice(0, slash);
    const bits = ip.slice(slash + 1);
    const fail = (msg: string): string => `bad CIDR range (${ip}): netip.ParsePrefix(${JSON.stringify(ip)}): ${msg}`;
    const addrErr = parseAddrReason(addr);
    if (addrErr !== undefined) return fail(addrErr);
    if (addr.includes('%')) return fail('IPv6 zones cannot be present in a prefix');
    if ((bits.length > 1 && !/^[1-9]/.test(bits)) || !/^\d+$/.test(bits)) return fail(`bad bits after slash: ${JSON.stringify(bits)}`);
    if (Number(bits) > (addr.includes(':') ? 128 : 32)) return fail('prefix length out of range');
    return undefined;
  }
  return isIPAddress(ip) ? undefined : `bad IP address (${ip})`;
}

/** security.ValidatePorts: strconv.ParseUint(port, 10, 32) and <= 65535. */
export function authzPortError(port: string): string | undefined {
  if (!/^\d+$/.test(port)) return `bad port (${port}): strconv.ParseUint: parsing ${JSON.stringify(port)}: invalid syntax`;
  const n = Number(port);
  if (n > 4294967295) return `bad port (${port}): strconv.ParseUint: parsing ${JSON.stringify(port)}: value out of range`;
  if (n > 65535) return `bad port (${port}): <nil>`;
  return undefined;
}

type Found = { index?: number; message: string };

function checkEmptyValues(key: string, values: readonly string[] | undefined): Found | undefined {
  const i = (values ?? []).indexOf('');
  return i >= 0 ? { index: i, message: `empty value not allowed, found in ${key}` } : undefined;
}

function checkWildcardValues(key: string, values: readonly string[] | undefined): Found | undefined {
  const empty = checkEmptyValues(key, values);
  if (empty !== undefined) return empty;
  for (const [i, v] of (values ?? []).entries()) {
    const count = v.split('*').length - 1;
    if (count > 1) return { index: i, message: `at most one wildcard is allowed, found in ${key}: ${JSON.stringify(v)}` };
    if (count === 1 && v !== '*' && !v.startsWith('*') && !v.endsWith('*'))
      return { index: i, message: `wildcard is only allowed at the start or end, found in ${key}: ${JSON.stringify(v)}` };
  }
  return undefined;
}

function checkTrustDomainValues(key: string, values: readonly string[] | undefined): Found | undefined {
  const w = checkWildcardValues(key, values);
  if (w !== undefined) return w;
  for (const [i, v] of (values ?? []).entries())
    if (v.includes('/')) return { index: i, message: `trust domain must not contain '/', found in ${key}: ${JSON.stringify(v)}` };
  return undefined;
}

function checkServiceAccount(key: string, values: readonly string[] | undefined): Found | undefined {
  const vs = values ?? [];
  if (vs.length > 16) return { message: 'may not have more than 16 values' };
  const fmt = "expected format 'serviceAccount' or 'namespace/serviceAccount'";
  for (const [i, v] of vs.entries()) {
    if (v === '') return { index: i, message: `empty value not allowed, found in ${key}` };
    if (v.includes('*')) return { index: i, message: `wildcard not allowed, found in ${key}` };
    const segments = v.split('/').length - 1;
    if (segments !== 0 && segments !== 1) return { index: i, message: `${fmt}, found ${JSON.stringify(v)} in ${key}` };
    if (v.length > 320) return { index: i, message: `value cannot exceed 320 characters, found ${JSON.stringify(v)} in ${key}` };
    if (segments === 1) {
      const [ns, sa] = v.split('/') as [string, string];
      if (ns === '') return { index: i, message: `${fmt}, found empty namespace ${JSON.stringify(v)} in ${key}` };
      if (sa === '') return { index: i, message: `${fmt}, found empty serviceAccount ${JSON.stringify(v)} in ${key}` };
    }
  }
  return undefined;
}

const MATCH_ONE = '{*}';
const MATCH_ANY = '{**}';
const VALID_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

/** security.CheckValidPathTemplate: `{*}` one segment, `{**}` the rest, and nothing templated after `{**}`. */
function checkValidPathTemplate(key: string, paths: readonly string[] | undefined): Found | undefined {
  for (const [i, original] of (paths ?? []).entries()) {
    const hasTemplate = original.includes(MATCH_ONE) || original.includes(MATCH_ANY);
    let foundAny = false;
    const path = original.replace(/^\/+/, '').replace(/\/+$/, '');
    for (const glob of path.split('/')) {
      if (glob === MATCH_ONE && !foundAny) continue;
      if (glob === MATCH_ANY && !foundAny) {
        foundAny = true;
        continue;
      }
      if ((glob === MATCH_ANY || glob === MATCH_ONE) && foundAny)
        return { index: i, message: `invalid or unsupported path ${path}, found in ${key}. {**} is not the last operator` };
      if (glob.includes('{') || glob.includes('}'))
        return { index: i, message: `invalid or unsupported path ${path}, found in ${key}. Contains '{' or '}' beyond a supported path template` };
      if (hasTemplate && !VALID_LITERAL.test(glob))
        return { index: i, message: `invalid or unsupported path ${path}, found in ${key}. Contains segment ${glob} with invalid string literal` };
    }
  }
  return undefined;
}

function validateMapKey(key: string): string | undefined {
  const open = key.indexOf('[');
  if (key.endsWith(']') && open > 0 && open < key.length - 2) return undefined;
  return `bad key (${key}): should have format a[b]`;
}

/** security.ValidateAttribute: the `when` keys Istio knows and the value rules of each. */
export function conditionAttributeError(key: string, values: readonly string[]): string | undefined {
  const empty = checkEmptyValues(key, values);
  if (empty !== undefined) return empty.message;
  const ips = (): string | undefined => values.map(ipErrors).find((e) => e !== undefined);
  if (key.startsWith('request.headers')) return validateMapKey(key);
  switch (key) {
    case 'source.ip':
    case 'remote.ip':
    case 'destination.ip':
      return ips();
    case 'source.serviceAccount':
      return checkServiceAccount(key, values)?.message;
    case 'source.trustDomain':
      return checkWildcardValues(key, values)?.message;
    case 'destination.port':
      return values.map(authzPortError).find((e) => e !== undefined);
    case 'source.namespace':
    case 'source.principal':
    case 'request.auth.principal':
    case 'request.auth.audiences':
    case 'request.auth.presenter':
    case 'connection.sni':
      return undefined;
    case 'destination.namespace':
      return `attribute ${key} is replaced by the metadata.namespace`;
    case 'destination.name':
    case 'destination.user':
      return `deprecated attribute ${key}: only supported in v1alpha1`;
  }
  if (key.startsWith('request.auth.claims')) return validateMapKey(key);
  if (key.startsWith('experimental.envoy.filters.')) return validateMapKey(key);
  if (key.startsWith('destination.labels')) return `attribute ${key} is replaced by the workload selector`;
  return `unknown attribute: ${key}`;
}

// ---- the policy ----

const SOURCE_FIELDS = [
  'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'serviceAccounts',
  'notServiceAccounts', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks', 'trustDomains', 'notTrustDomains',
] as const;
const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;

/** Go field name as Istio's messages print it: `notIpBlocks` -> `NotIpBlocks`. */
function goName(field: string): string {
  return field.charAt(0).toUpperCase() + field.slice(1);
}

function len(v: readonly unknown[] | undefined): number {
  return v?.length ?? 0;
}

function push(out: Issue[], base: string, field: string, f: Found | undefined): void {
  if (f === undefined) return;
  const p = at(base, field);
  out.push(error(f.index === undefined ? p : at(p, f.index), f.message));
}

function customActionIssues(spec: AuthorizationPolicySpec): Issue[] {
  const out: Issue[] = [];
  const unsupported = (name: string): string => `${name} is currently not supported with CUSTOM action`;
  (spec.rules ?? []).forEach((rule, i) => {
    (rule.from ?? []).forEach((from, j) => {
      const src = from.source;
      if (src === undefined) return;
      const base = `spec.rules[${i}].from[${j}].source`;
      for (const f of ['namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'trustDomains', 'notTrustDomains', 'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals'] as const)
        if (len(src[f]) !== 0) out.push(error(at(base, f), unsupported(`From.${goName(f)}`)));
    });
    (rule.when ?? []).forEach((when, j) => {
      const key = when.key ?? '';
      if (['source.namespace', 'source.serviceAccount', 'source.trustDomain', 'source.principal'].includes(key) || key.startsWith('request.auth.'))
        out.push(error(`spec.rules[${i}].when[${j}].key`, unsupported(key)));
    });
  });
  return out;
}

function sourceIssues(base: string, src: Source, rule: number): Issue[] {
  const out: Issue[] = [];
  if (len(src.principals) + len(src.notPrincipals) + len(src.namespaces) + len(src.notNamespaces) > 0 && len(src.serviceAccounts) + len(src.notServiceAccounts) > 0)
    out.push(error(base, `cannot set serviceAccounts with namespaces or principals, found at rule ${rule}`));
  if (SOURCE_FIELDS.every((f) => len(src[f]) === 0)) out.push(error(base, `\`from.source\` must not be empty, found at rule ${rule}`));
  for (const f of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const)
    (src[f] ?? []).forEach((ip, k) => {
      const e = ipErrors(ip);
      if (e !== undefined) out.push(error(at(at(base, f), k), e));
    });
  for (const f of ['principals', 'requestPrincipals', 'namespaces', 'ipBlocks', 'remoteIpBlocks', 'notPrincipals', 'notRequestPrincipals', 'notNamespaces', 'notIpBlocks', 'notRemoteIpBlocks'] as const)
    push(out, base, f, checkEmptyValues(goName(f), src[f]));
  for (const f of ['serviceAccounts', 'notServiceAccounts'] as const) push(out, base, f, checkServiceAccount(goName(f), src[f]));
  for (const f of ['trustDomains', 'notTrustDomains'] as const) push(out, base, f, checkTrustDomainValues(goName(f), src[f]));
  return out;
}

function operationIssues(base: string, op: Operation, rule: number): Issue[] {
  const out: Issue[] = [];
  if (OPERATION_FIELDS.every((f) => len(op[f]) === 0)) out.push(error(base, `\`to.operation\` must not be empty, found at rule ${rule}`));
  for (const f of ['ports', 'notPorts'] as const)
    (op[f] ?? []).forEach((p, k) => {
      const e = authzPortError(p);
      if (e !== undefined) out.push(error(at(at(base, f), k), e));
    });
  for (const f of OPERATION_FIELDS) push(out, base, f, checkEmptyValues(goName(f), op[f]));
  for (const f of ['paths', 'notPaths'] as const) push(out, base, f, checkValidPathTemplate(goName(f), op[f]));
  return out;
}

/**
 * checkDryRunAnnotation for every other Istio kind: Istio's validateMetadata wraps each kind's validator and
 * only AuthorizationPolicy may carry `istio.io/dry-run`.
 */
export function unsupportedDryRunIssues(r: { readonly metadata: { readonly name: string; readonly namespace?: string; readonly annotations?: Readonly<Record<string, string>> } }): Issue[] {
  if (r.metadata.annotations?.[DRY_RUN_ANNOTATION] === undefined) return [];
  return [
    error(
      at('metadata.annotations', DRY_RUN_ANNOTATION),
      `${r.metadata.namespace ?? ''}/${r.metadata.name} has unsupported annotation ${DRY_RUN_ANNOTATION}, please remove the annotation`,
    ),
  ];
}

/** checkDryRunAnnotation for an AuthorizationPolicy. */
function dryRunIssues(ap: AuthorizationPolicy): Issue[] {
  const val = ap.metadata.annotations?.[DRY_RUN_ANNOTATION];
  if (val === undefined) return [];
  const path = at('metadata.annotations', DRY_RUN_ANNOTATION);
  const who = `${ap.metadata.namespace ?? ''}/${ap.metadata.name}`;
  const action = effectiveAction(ap);
  if (action !== 'ALLOW' && action !== 'DENY')
    return [error(path, `the annotation ${DRY_RUN_ANNOTATION} currently only supports action ALLOW/DENY, found action ${action} in ${who}`)];
  if (parseGoBool(val) === undefined)
    return [error(path, `${who} has annotation ${DRY_RUN_ANNOTATION} with invalid value (${val}): strconv.ParseBool: parsing ${JSON.stringify(val)}: invalid syntax`)];
  return [];
}

export function validateAuthorizationPolicy(ap: AuthorizationPolicy): Issue[] {
  const spec = ap.spec;
  const out: Issue[] = [...dryRunIssues(ap), ...selectorAndTargetRefIssues(spec)];
  const action = effectiveAction(ap);
  const meaningless = (a: string): string =>
    `${a} action without \`rules\` is meaningless as it will never be triggered, add an empty rule \`{}\` if you want it be triggered for every request`;

  if (action === 'CUSTOM') {
    if (spec.rules === undefined) out.push(error('spec.rules', meaningless('CUSTOM')));
    else if ((spec.provider?.name ?? '') === '') out.push(error(spec.provider === undefined ? 'spec.provider' : 'spec.provider.name', '`provider.name` must not be empty'));
    out.push(...customActionIssues(spec));
  }
  if (spec.provider !== undefined && action !== 'CUSTOM') out.push(error('spec.provider', `\`provider\` must not be with non CUSTOM action, found ${action}`));
  if (action === 'DENY' && spec.rules === undefined) out.push(error('spec.rules', meaningless('DENY')));

  (spec.rules ?? []).forEach((rule, i) => {
    const rbase = `spec.rules[${i}]`;
    if (rule.from !== undefined && rule.from.length === 0) out.push(error(`${rbase}.from`, `\`from\` must not be empty, found at rule ${i}`));
    let tcpInFrom = false;
    let tcpInTo = false;
    let fromExists = false;
    let toExists = false;
    (rule.from ?? []).forEach((from, j) => {
      const base = `${rbase}.from[${j}].source`;
      if (from.source === undefined) {
        out.push(error(base, `\`from.source\` must not be nil, found at rule ${i}`));
        return;
      }
      fromExists = true;
      const src = from.source;
      out.push(...sourceIssues(base, src, i));
      // Attributes that also apply to TCP traffic (a set field, even empty, counts: Go checks `!= nil`).
      if ((['notPrincipals', 'principals', 'ipBlocks', 'notIpBlocks', 'namespaces', 'notNamespaces', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts'] as const).some((f) => src[f] !== undefined))
        tcpInFrom = true;
    });
    if (rule.to !== undefined && rule.to.length === 0) out.push(error(`${rbase}.to`, `\`to\` must not be empty, found at rule ${i}`));
    (rule.to ?? []).forEach((to, j) => {
      const base = `${rbase}.to[${j}].operation`;
      if (to.operation === undefined) {
        out.push(error(base, `\`to.operation\` must not be nil, found at rule ${i}`));
        return;
      }
      toExists = true;
      out.push(...operationIssues(base, to.operation, i));
      if (to.operation.ports !== undefined || to.operation.notPorts !== undefined) tcpInTo = true;
    });
    (rule.when ?? []).forEach((cond, j) => {
      const base = `${rbase}.when[${j}]`;
      const key = cond.key ?? '';
      if (key === '') {
        out.push(error(at(base, 'key'), '`key` must not be empty'));
        return;
      }
      if (len(cond.values) === 0 && len(cond.notValues) === 0) {
        out.push(error(base, `at least one of \`values\` or \`notValues\` must be set for key ${key}`));
        return;
      }
      // Istio formats the multierror of these checks with %v; the single inner message is kept here.
      const v = conditionAttributeError(key, cond.values ?? []);
      if (v !== undefined) out.push(error(at(base, 'values'), `invalid \`value\` for \`key\` ${key}: ${v}`));
      const nv = conditionAttributeError(key, cond.notValues ?? []);
      if (nv !== undefined) out.push(error(at(base, 'notValues'), `invalid \`notValue\` for \`key\` ${key}: ${nv}`));
    });
    if (((fromExists && !toExists && !tcpInFrom) || (toExists && !tcpInTo)) && action === 'DENY')
      out.push(
        warning(
          rbase,
          'configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port',
        ),
      );
  });
  return out;
}

export const AUTHORIZATION_POLICY = defineKind<AuthorizationPolicyBody>({
  group: 'security.istio.io',
  kind: 'AuthorizationPolicy',
  versions: ['v1', 'v1beta1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateAuthorizationPolicy,
});
