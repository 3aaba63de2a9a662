// Test support for kind validators: parse one YAML document, validate it against the given kinds, and
// assert on the issues by path and message. Used by the table-driven tests next to each kind.

import assert from 'node:assert/strict';
import { loadText } from '../../src/api/load.js';
import { createKindRegistry, type AnyKind } from '../../src/api/kind.js';
import { validateObject, type ValidationOutcome } from '../../src/api/validate.js';
import type { Issue } from '../../src/lib/issue.js';

export function validateYaml(yaml: string, kinds: readonly AnyKind[]): ValidationOutcome {
  const loaded = loadText(yaml, 'test.yaml');
  assert.equal(loaded.problems.length, 0, `YAML problems: ${JSON.stringify(loaded.problems)}`);
  assert.equal(loaded.documents.length, 1, 'expected exactly one document');
  return validateObject(loaded.documents[0]?.raw, createKindRegistry(kinds));
}

function show(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.severity} ${i.path}: ${i.message}`).join('\n');
}

/** Asserts the document is valid; returns its warnings. */
export function expectValid(yaml: string, kinds: readonly AnyKind[]): readonly Issue[] {
  const out = validateYaml(yaml, kinds);
  assert.ok(out.ok, `expected valid, got:\n${out.ok ? '' : show(out.issues)}`);
  return out.warnings;
}

export interface ExpectedIssue {
  readonly path: string;
  /** A substring of the message (Istio's wording), or an exact RegExp. */
  readonly message: string | RegExp;
}

/** Asserts the document is invalid and that each expected issue is among the reported ones. */
export function expectInvalid(yaml: string, kinds: readonly AnyKind[], expected: readonly ExpectedIssue[]): readonly Issue[] {
  const out = validateYaml(yaml, kinds);
  assert.ok(!out.ok, 'expected the document to be invalid');
  for (const e of expected) {
    const found = out.issues.some(
      (i) => i.path === e.path && (typeof e.message === 'string' ? i.message.includes(e.message) : e.message.test(i.message)),
    );
    assert.ok(found, `expected issue at ${e.path} matching ${String(e.message)}; got:\n${show(out.issues)}`);
  }
  return out.issues;
}
