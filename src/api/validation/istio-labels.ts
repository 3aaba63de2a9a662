// Istio's own label rules (istio/istio pkg/config/labels/instance.go): its DNS-1123 label, the wildcard
// label allowed first in a host, and labels.Instance.Validate for label maps (sourceLabels, subset and
// workload labels). Unlike Kubernetes' rules in ../names.ts, Istio's DNS-1123 label accepts upper case, and
// a wildcard label may be `*`, `*foo` or `*-foo`.

import { at, error, type Issue } from '../../lib/issue.js';
import { goQuote } from './go-format.js';

/** dns1123LabelFmt (letters of either case). */
const DNS1123_LABEL_FMT = '[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?';
const DNS1123_LABEL = new RegExp(`^${DNS1123_LABEL_FMT}$`);
/** wildcardPrefix: `*`, or a label optionally preceded by `*` or `*-`. */
const WILDCARD_LABEL = new RegExp(`^(?:\\*|(?:\\*|\\*-)?${DNS1123_LABEL_FMT})$`);
const QUALIFIED_NAME = '(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const TAG_KEY = new RegExp(`^(${DNS1123_LABEL_FMT}(?:\\.${DNS1123_LABEL_FMT})*/)?(${QUALIFIED_NAME})$`);
const TAG_VALUE = new RegExp(`^(?:${QUALIFIED_NAME})?$`);

/** labels.IsDNS1123Label: at most 63 characters, letters of either case, digits and '-'. */
export function isIstioDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** labels.IsWildcardDNS1123Label: a DNS-1123 label that may start with `*` or `*-`, or `*` alone. */
export function isIstioWildcardDns1123Label(s: string): boolean {
  return s.length <= 63 && WILDCARD_LABEL.test(s);
}

/** labels.Instance.Validate: tag keys (optional DNS prefix, qualified name) and values, each issue at `path[key]`. */
export function istioLabelsIssues(path: string, labels: Readonly<Record<string, string>> | undefined): Issue[] {
  const out: Issue[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    const p = at(path, k);
    const m = TAG_KEY.exec(k);
    if (m === null) out.push(error(p, `invalid tag key: ${goQuote(k)}`));
    else if ((m[1] ?? '').length - 1 > 253) out.push(error(p, `invalid tag key: ${goQuote(k)} (DNS prefix is too long)`));
    else if ((m[2] ?? '').length > 63) out.push(error(p, `invalid tag key: ${goQuote(k)} (name is too long)`));
    if (!TAG_VALUE.test(v)) out.push(error(p, `invalid tag value: ${goQuote(v)}`));
  }
  return out;
}
