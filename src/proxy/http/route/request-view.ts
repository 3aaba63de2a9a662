// One request as route matching reads it, with everything derived computed at most once and only when a
// route asks: the path without query and fragment, the parsed query string and the request's one random
// value (Envoy draws a single value per request for runtime_fraction and weighted clusters).
// A compiled route table keeps one RequestView and resets it per select(), so matching allocates
// nothing of its own; select() is synchronous and never re-entered.

import type { Random } from '../../lib/random.js';
import { drawRandomValue } from './proto-values.js';
import type { HeaderMap, RouteInput } from './types.js';

/** Header lookup as Envoy's header map answers it: all values joined with ',' (getAllOfHeaderAsString). */
export interface HeaderSource {
  header(name: string): string | undefined;
}

/** A value of a node-style header map, multiple values joined with ','. */
export function joinedHeader(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.length === 0 ? undefined : v.join(',');
}

/** Index of the end of the path proper (Http::PathUtil::removeQueryAndFragment). */
export function pathEnd(path: string): number {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return i;
  }
  return path.length;
}

export class RequestView implements HeaderSource {
  input: RouteInput = EMPTY_INPUT;
  #random: Random | undefined;
  #randomValue = -1;
  #pathOnly: string | undefined;
  #matchPath: string | undefined;
  #ignorePathParameters = false;
  #query: Map<string, string> | undefined;
  #queryParsed = false;

  /** `ignorePathParameters`: the route configuration's ignore_path_parameters_in_path_matching. */
  reset(input: RouteInput, random: Random, ignorePathParameters: boolean): void {
    this.input = input;
    this.#random = random;
    this.#randomValue = -1;
    this.#pathOnly = undefined;
    this.#matchPath = undefined;
    this.#ignorePathParameters = ignorePathParameters;
    this.#queryParsed = false;
  }

  /** Drops references to the request once selection is done. */
  clear(): void {
    this.input = EMPTY_INPUT;
    this.#random = undefined;
    this.#pathOnly = undefined;
    this.#matchPath = undefined;
    this.#query?.clear();
  }

  /** :path without query string and fragment. */
  get pathOnly(): string {
    if (this.#pathOnly === undefined) {
      const p = this.input.path;
      const end = pathEnd(p);
      this.#pathOnly = end === p.length ? p : p.slice(0, end);
    }
    return this.#pathOnly;
  }

  /**
   * The path prefix, path, path_separated_prefix and safe_regex matchers see: pathOnly, cut at the first
   * ';' when path parameters are ignored (RouteEntryImplBase::sanitizePathBeforePathMatching).
   */
  get matchPath(): string {
    if (this.#matchPath === undefined) {
      const p = this.pathOnly;
      const semi = this.#ignorePathParameters ? p.indexOf(';') : -1;
      this.#matchPath = semi < 0 ? p : p.slice(0, semi);
    }
    return this.#matchPath;
  }

  /**
   * Pseudo-headers come from the input; `host` is :authority as in Envoy's header map (its static
   * lookup table maps the legacy host name to :authority).
   */
  header(name: string): string | undefined {
    switch (name) {
      case ':authority':
      case 'host':
        return this.input.authority;
      case ':path':
        return this.input.path;
      case ':method':
        return this.input.method;
      case ':scheme':
        return this.input.scheme;
      default:
        return joinedHeader(this.input.headers, name);
    }
  }

  /** The first value of a query parameter, undecoded (Http::Utility::QueryParamsMulti::parseQueryString). */
  queryParam(name: string): string | undefined {
    if (!this.#queryParsed) {
      this.#queryParsed = true;
      this.#query ??= new Map();
      this.#query.clear();
      const p = this.input.path;
      const q = p.indexOf('?');
      if (q >= 0) {
        let start = q + 1;
        while (start <= p.length) {
          let end = p.indexOf('&', start);
          if (end < 0) end = p.length;
          if (end > start) {
            const eq = p.indexOf('=', start);
            const key = eq >= 0 && eq < end ? p.slice(start, eq) : p.slice(start, end);
            const value = eq >= 0 && eq < end ? p.slice(eq + 1, end) : '';
            if (!this.#query.has(key)) this.#query.set(key, value);
          }
          start = end + 1;
        }
      }
    }
    return this.#query?.get(name);
  }

  /** The request's random value, drawn on first use. */
  get randomValue(): number {
    if (this.#randomValue < 0) this.#randomValue = this.#random === undefined ? 0 : drawRandomValue(this.#random);
    return this.#randomValue;
  }
}

const EMPTY_INPUT: RouteInput = Object.freeze({ authority: '', path: '/', method: 'GET', scheme: 'http', headers: Object.freeze({}) });
