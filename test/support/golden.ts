// Golden files for translation output (Istio's pilot golden tests): a value is serialized as pretty JSON and
// compared with test/golden/<name>.golden.json. REFRESH_GOLDEN=1 (read per call, never at import) rewrites
// the file; otherwise a missing file or any difference fails with a unified diff of the first differing lines.
// dumpResources turns ProxyResources into the proto3 JSON Envoy's config_dump prints (Anys expanded), and
// first holds every resource to Envoy's protoc-gen-validate constraints (src/xds/pgv.ts): output a real
// Envoy would refuse fails the test that dumps it, golden file or not.

import { AssertionError } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DescMessage, JsonValue, Message } from '@bufbuild/protobuf';
import type { ProxyResources } from '../../src/translate/resources.js';
import { toDumpJson, XDS_REGISTRY } from '../../src/xds/codec.js';
import { pgvProblems } from '../../src/xds/pgv.js';
import { ListenerSchema } from '../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../src/xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { SecretSchema } from '../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';

export const GOLDEN_ROOT = fileURLToPath(new URL('../golden/', import.meta.url));

export interface GoldenOptions {
  /** Directory holding golden files; default test/golden. */
  readonly dir?: string;
  /** Rewrite instead of compare; default: process.env.REFRESH_GOLDEN === '1' at call time. */
  readonly refresh?: boolean;
  /** Context lines around each change in the failure diff; default 3. */
  readonly context?: number;
  /** Most diff lines shown; default 80. */
  readonly maxDiffLines?: number;
}

export interface ResourceDump {
  readonly listeners: JsonValue[];
  readonly routes: JsonValue[];
  readonly clusters: JsonValue[];
  readonly endpoints: JsonValue[];
  readonly secrets: JsonValue[];
}

export interface DumpOptions {
  /**
   * Resources for an Envoy (default true): each must pass Envoy's protoc-gen-validate constraints, or the
   * dump throws. False for proxyless gRPC clients, which Istio gives no stat_prefix and certificate provider
   * instances, and which do not apply these constraints.
   */
  readonly envoy?: boolean;
}

/** The constraint problems of every resource, as `<kind> <name>: <path>: <reason>`. */
export function envoyConstraintProblems(resources: ProxyResources): string[] {
  const out: string[] = [];
  const check = <T extends Message>(kind: string, schema: DescMessage, list: readonly T[], name: (m: T) => string): void => {
    for (const m of list) for (const p of pgvProblems(schema, m, { registry: XDS_REGISTRY })) out.push(`${kind} ${name(m)}: ${p}`);
  };
  check('listener', ListenerSchema, resources.listeners, (m) => m.name);
  check('route', RouteConfigurationSchema, resources.routes, (m) => m.name);
  check('cluster', ClusterSchema, resources.clusters, (m) => m.name);
  check('endpoints', ClusterLoadAssignmentSchema, resources.endpoints, (m) => m.clusterName);
  check('secret', SecretSchema, resources.secrets, (m) => m.name);
  return out;
}

/** ProxyResources as config_dump JSON, each list in the order translation produced it. */
export function dumpResources(resources: ProxyResources, opts: DumpOptions = {}): ResourceDump {
  if (opts.envoy !== false) {
    const problems = envoyConstraintProblems(resources);
    if (problems.length > 0) throw new AssertionError({ message: `Envoy would refuse this translation (protoc-gen-validate):\n${problems.join('\n')}` });
  }
  return {
    listeners: resources.listeners.map((m) => toDumpJson(ListenerSchema, m)),
    routes: resources.routes.map((m) => toDumpJson(RouteConfigurationSchema, m)),
    clusters: resources.clusters.map((m) => toDumpJson(ClusterSchema, m)),
    endpoints: resources.endpoints.map((m) => toDumpJson(ClusterLoadAssignmentSchema, m)),
    secrets: resources.secrets.map((m) => toDumpJson(SecretSchema, m)),
  };
}

/** The golden file for `name` (which may contain `/` for subdirectories, never `..`). */
export function goldenPath(name: string, dir: string = GOLDEN_ROOT): string {
  const clean = normalize(name);
  if (name === '' || isAbsolute(name) || clean.split(sep).includes('..')) {
    throw new Error(`golden name ${JSON.stringify(name)}: must be a relative path inside the golden directory`);
  }
  return join(dir, `${clean}.golden.json`);
}

/** Pretty JSON with a final newline; keys keep the order the value has. bigint prints as a string. */
export function serializeGolden(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
  if (text === undefined) throw new Error('golden value: not representable as JSON (undefined, a function or a symbol)');
  return `${text}\n`;
}

/** Compares `value` with its golden file, or rewrites the file when refreshing. */
export function assertGolden(name: string, value: unknown, opts: GoldenOptions = {}): void {
  const file = goldenPath(name, opts.dir);
  const got = serializeGolden(value);
  const refresh = opts.refresh ?? process.env['REFRESH_GOLDEN'] === '1';
  if (refresh) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, got);
    return;
  }
  if (!existsSync(file)) {
    throw new AssertionError({ message: `golden ${name}: ${file} does not exist; run with REFRESH_GOLDEN=1 to create it` });
  }
  const want = readFileSync(file, 'utf8');
  if (want === got) return;
  throw new AssertionError({
    message: [
      `golden ${name}: output differs from ${file} (- golden, + got)`,
      unifiedDiff(want, got, opts.context ?? 3, opts.maxDiffLines ?? 80),
      'if the change is intended, rerun with REFRESH_GOLDEN=1 and review the diff',
    ].join('\n'),
  });
}

type Op = { readonly kind: ' ' | '-' | '+'; readonly text: string; readonly a: number; readonly b: number };

/** Line diff in unified format (`@@ -a,n +b,m @@` hunks), cut after `maxLines` lines. */
export function unifiedDiff(want: string, got: string, context = 3, maxLines = 80): string {
  const lines = (t: string): string[] => (t.endsWith('\n') ? t.slice(0, -1) : t).split('\n');
  const ops = diffLines(lines(want), lines(got));
  const changed = ops.flatMap((o, i) => (o.kind === ' ' ? [] : [i]));
  if (changed.length === 0) return '(no line differences)';
  const hunks: [number, number][] = [];
  for (const i of changed) {
    const start = Math.max(0, i - context);
    const end = Math.min(ops.length, i + context + 1);
    const last = hunks[hunks.length - 1];
    if (last !== undefined && start <= last[1]) last[1] = end;
    else hunks.push([start, end]);
  }
  const out: string[] = [];
  let shownChanges = 0;
  for (const [start, end] of hunks) {
    const slice = ops.slice(start, end);
    const aLines = slice.filter((o) => o.kind !== '+').length;
    const bLines = slice.filter((o) => o.kind !== '-').length;
    const first = slice[0];
    out.push(`@@ -${(first?.a ?? 0) + 1},${aLines} +${(first?.b ?? 0) + 1},${bLines} @@`);
    for (const o of slice) {
      if (out.length >= maxLines) {
        out.push(`... (${changed.length - shownChanges} more changed lines)`);
        return out.join('\n');
      }
      out.push(`${o.kind}${o.text}`);
      if (o.kind !== ' ') shownChanges++;
    }
  }
  return out.join('\n');
}

/** LCS over the lines between the common prefix and suffix; a very large middle is shown as replaced whole. */
function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const ops: Op[] = [];
  for (let i = 0; i < pre; i++) ops.push({ kind: ' ', text: a[i] ?? '', a: i, b: i });
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  if (am.length * bm.length > 4_000_000) {
    am.forEach((text, i) => ops.push({ kind: '-', text, a: pre + i, b: pre }));
    bm.forEach((text, j) => ops.push({ kind: '+', text, a: pre + am.length, b: pre + j }));
  } else {
    // lcs[i][j] = LCS length of am[i..] and bm[j..], flattened.
    const w = bm.length + 1;
    const lcs = new Uint32Array((am.length + 1) * w);
    for (let i = am.length - 1; i >= 0; i--) {
      for (let j = bm.length - 1; j >= 0; j--) {
        lcs[i * w + j] = am[i] === bm[j] ? (lcs[(i + 1) * w + j + 1] ?? 0) + 1 : Math.max(lcs[(i + 1) * w + j] ?? 0, lcs[i * w + j + 1] ?? 0);
      }
    }
    let i = 0;
    let j = 0;
    while (i < am.length || j < bm.length) {
      if (i < am.length && j < bm.length && am[i] === bm[j]) {
        ops.push({ kind: ' ', text: am[i] ?? '', a: pre + i, b: pre + j });
        i++;
        j++;
      } else if (i < am.length && (j === bm.length || (lcs[(i + 1) * w + j] ?? 0) >= (lcs[i * w + j + 1] ?? 0))) {
        ops.push({ kind: '-', text: am[i] ?? '', a: pre + i, b: pre + j });
        i++;
      } else {
        ops.push({ kind: '+', text: bm[j] ?? '', a: pre + i, b: pre + j });
        j++;
      }
    }
  }
  for (let k = 0; k < suf; k++) {
    ops.push({ kind: ' ', text: a[a.length - suf + k] ?? '', a: a.length - suf + k, b: b.length - suf + k });
  }
  return ops;
}
