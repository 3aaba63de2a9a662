// A resource as the rest of the system sees it after loading: the validated object, its kind, where it
// came from and the warnings its validation produced. `InvalidEntry` is a document that failed validation,
// kept so that `validate`, `analyze` (IST0106) and the store can report it.

import type { Issue } from '../lib/issue.js';
import type { AnyKind } from './kind.js';
import type { Origin, Resource } from './resource.js';

export interface ResourceEntry {
  readonly resource: Resource<unknown>;
  readonly kind: AnyKind;
  readonly origin: Origin;
  readonly warnings: readonly Issue[];
  /** 1-based line of a field path inside the source document (falls back to the resource's line). */
  readonly locate?: (path: string) => number;
}

export interface InvalidEntry {
  readonly origin: Origin;
  /** What could be read of the object, to name it in reports. */
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly issues: readonly Issue[];
  readonly locate?: (path: string) => number;
}
