// What one ADS stream asked for, for one resource type: explicit names and/or the wildcard. Follows the
// xDS protocol's "How the client specifies what resources to return" rules:
//  - Listener and Cluster are wildcard-capable: a stream that never named a resource of that type
//    (legacy empty list, SotW or the first delta request) gets every resource; `*` asks for it explicitly.
//  - Once a stream has named resources, an empty SotW list means "nothing" (unsubscribe all), not wildcard
//    (reference/xds.md §3.6 pitfall 6).
//  - Routes, endpoints and secrets are only ever sent by name (unless `*` is named explicitly).
// Pure state; knows nothing of nonces or versions.

import type { XdsTypeUrl } from '../xds/type-urls.js';
import { requiresFullState } from '../xds/type-urls.js';

export const WILDCARD = '*';

export class Subscription {
  readonly typeUrl: XdsTypeUrl;
  private explicitNames = new Set<string>();
  private wildcardOn = false;
  private everExplicit = false;

  constructor(typeUrl: XdsTypeUrl) {
    this.typeUrl = typeUrl;
  }

  get wildcard(): boolean {
    return this.wildcardOn;
  }

  /** Explicitly named resources (without `*`), sorted. */
  get names(): readonly string[] {
    return [...this.explicitNames].sort();
  }

  /** Whether `name` is subscribed, explicitly or through the wildcard. */
  covers(name: string): boolean {
    return this.wildcardOn || this.explicitNames.has(name);
  }

  isExplicit(name: string): boolean {
    return this.explicitNames.has(name);
  }

  /** A SotW request replaces the whole subscription. Returns whether anything changed. */
  replace(requested: readonly string[]): boolean {
    const before = this.key();
    if (requested.length === 0 && !this.everExplicit && requiresFullState(this.typeUrl)) {
      this.wildcardOn = true;
      this.explicitNames = new Set();
    } else {
      if (requested.length > 0) this.everExplicit = true;
      this.wildcardOn = requested.includes(WILDCARD);
      this.explicitNames = new Set(requested.filter((n) => n !== WILDCARD));
    }
    return this.key() !== before;
  }

  /**
   * A delta request adds and removes names. The first request for a type that subscribes nothing is the
   * legacy wildcard for Listener and Cluster. Returns whether anything changed; names no longer covered
   * are forgotten by the stream (the client unsubscribed, so it expects no removal notice).
   */
  apply(subscribe: readonly string[], unsubscribe: readonly string[], first: boolean): boolean {
    const before = this.key();
    if (first && subscribe.length === 0 && requiresFullState(this.typeUrl)) this.wildcardOn = true;
    for (const n of subscribe) {
      this.everExplicit = true;
      if (n === WILDCARD) this.wildcardOn = true;
      else this.explicitNames.add(n);
    }
    for (const n of unsubscribe) {
      if (n === WILDCARD) this.wildcardOn = false;
      else this.explicitNames.delete(n);
    }
    return this.key() !== before;
  }

  private key(): string {
    return `${this.wildcardOn ? '*' : ''}|${this.names.join(',')}`;
  }
}
