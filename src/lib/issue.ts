// Issues: the one shape every validator, loader and analyzer reports problems in.
// An issue names where (a field path such as `spec.http[0].route[1].weight`) and why (a message in
// Istio's or Kubernetes' wording where they have one). Validators collect every issue; they never throw.

export type Severity = 'error' | 'warning';

export interface Issue {
  /** Field path from the resource root, e.g. `spec.http[0].route[1].weight`; '' for the whole resource. */
  readonly path: string;
  readonly message: string;
  readonly severity: Severity;
}

export type Result<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: readonly Issue[] }
  | { readonly ok: false; readonly issues: readonly Issue[] };

export function error(path: string, message: string): Issue {
  return { path, message, severity: 'error' };
}

export function warning(path: string, message: string): Issue {
  return { path, message, severity: 'warning' };
}

export function hasErrors(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}

/** Appends a key or an index to a field path: `at('spec.http', 0)` is `spec.http[0]`. */
export function at(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return base === '' ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

/** Splits a field path back into its segments: `spec.http[0]["a.b"]` is ['spec','http',0,'a.b']. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
  for (const m of path.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(m[3]) as string);
  }
  return out;
}

/** Re-roots issues found on a sub-value: `prefixIssues('spec', [{path:'hosts[0]'}])` gives `spec.hosts[0]`. */
export function prefixIssues(prefix: string, issues: readonly Issue[]): Issue[] {
  return issues.map((i) => ({
    ...i,
    path: i.path === '' ? prefix : i.path.startsWith('[') ? `${prefix}${i.path}` : prefix === '' ? i.path : `${prefix}.${i.path}`,
  }));
}
