// schema.ValidationAnalyzer: validation results as analysis messages. A document that failed validation
// gives one IST0106 per error ("Schema validation error: <field>: <message>"); validation warnings give
// IST0133, except VirtualService rule reachability warnings, which Istio reports as IST0130/IST0131.
// Source: istio/istio pkg/config/analysis/analyzers/schema/validation.go (morePreciseMessage) and
// pkg/config/validation/validation.go (AnalysisAwareError "virtualService rule %v not used (%s)").

import type { Issue } from '../../lib/issue.js';
import { isKind } from '../../api/kind.js';
import { unreachableRules, VIRTUAL_SERVICE } from '../../api/networking/virtual-service.js';
import type { Analyzer, AnalysisContext, Subject } from '../framework.js';

function text(i: Issue): string {
  return i.path === '' ? i.message : `${i.path}: ${i.message}`;
}

const UNREACHABLE = /^virtualService rule (.+) not used \((.*)\)$/i;
const INEFFECTIVE = /^virtualService rule (.+) match (.+) is not used \(duplicate\/overlapping match in rule (.+)\)$/i;

function reportWarning(ctx: AnalysisContext, s: Subject, w: Issue, isVirtualService: boolean): void {
  if (isVirtualService) {
    const u = UNREACHABLE.exec(w.message);
    if (u !== null) {
      ctx.report('IST0130', s, [u[1] ?? '', u[2] ?? ''], w.path);
      return;
    }
    const m = INEFFECTIVE.exec(w.message);
    if (m !== null) {
      ctx.report('IST0131', s, [m[1] ?? '', m[2] ?? '', m[3] ?? ''], w.path);
      return;
    }
  }
  ctx.report('IST0133', s, [text(w)], w.path);
}

export const schemaValidationAnalyzer: Analyzer = {
  name: 'schema.ValidationAnalyzer',
  description: 'Runs schema validation as an analyzer and reports any violations as messages',
  inputs: [],
  analyze(ctx) {
    for (const inv of ctx.invalid) {
      const isVs = inv.kind === 'VirtualService';
      for (const i of inv.issues) {
        if (i.severity === 'error') ctx.report('IST0106', inv, [text(i)], i.path);
        else reportWarning(ctx, inv, i, isVs);
      }
    }
    for (const e of ctx.entries) {
      if (!isKind(e.resource, VIRTUAL_SERVICE)) {
        for (const w of e.warnings) reportWarning(ctx, e, w, false);
        continue;
      }
      // The VirtualService module's own findings carry Istio's parameters; its warnings repeat them as text.
      const findings = unreachableRules(e.resource.spec);
      const texts = new Set(findings.map((f) => f.message));
      for (const f of findings) {
        if (f.type === 'VirtualServiceUnreachableRule') ctx.report('IST0130', e, [f.rule, f.reason], f.path);
        else ctx.report('IST0131', e, [f.rule, f.match ?? '', f.dupRule ?? ''], f.path);
      }
      for (const w of e.warnings) if (!texts.has(w.message)) reportWarning(ctx, e, w, false);
    }
  },
};
