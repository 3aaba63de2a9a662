// Tag extraction: turns Envoy's flat dotted stat names into a Prometheus metric name plus labels, the way
// Envoy's TagProducerImpl does (source/common/stats/tag_producer_impl.cc, tag_extractor_impl.cc):
//  - every extractor is a regex searched in the ORIGINAL name; capture group 1 is the text to remove from
//    the name, group 2 (if it matched) the tag value, else group 1;
//  - removals of all extractors are applied together at the end;
//  - extractors whose regex starts with a literal first token (`^cluster\.`) only run on names with that
//    first token, after all extractors without such a prefix; tags come out in that order;
//  - of several extractors with the same tag name, only the first that matches contributes.
// Two ready sets: Envoy's defaults (config/well_known_names.cc, tag names prefixed `envoy.`) and the set
// Istio's bootstrap installs with `use_all_default_tags: false` (tools/packaging/common/envoy_bootstrap.json),
// which relies on Istio's `;` delimiter in cluster alt_stat_name and HCM stat_prefix.
// Note: with Envoy's defaults a cluster name containing dots is cut at its first dot
// (`cluster.outbound|9080||reviews.default...` gives cluster_name `outbound|9080||reviews`); that is Envoy's
// behaviour too, and the reason Istio names cluster stats `outbound|9080||reviews.default.svc.cluster.local;`.
// Extraction runs once per stat (lazily, on the first Prometheus render), never per request.

export interface TagSpecifier {
  /** Tag name, e.g. `envoy.cluster_name` or Istio's `cluster_name`. */
  readonly tagName: string;
  /** Regex (Envoy's std::regex/RE2 dialect; POSIX classes like `[:digit:]` are translated). */
  readonly regex: string;
  /** Optional substring that must appear in the name before the regex is tried (an Envoy speed-up). */
  readonly substr?: string;
}

export interface Tag {
  readonly name: string;
  readonly value: string;
}

export interface TaggedName {
  /** The stat name with every tag's text removed, e.g. `cluster.upstream_rq`. */
  readonly extractedName: string;
  readonly tags: readonly Tag[];
}

/** Envoy's default extractors for the common names (TagNameValues in config/well_known_names.cc). */
export const ENVOY_DEFAULT_TAG_SPECIFIERS: readonly TagSpecifier[] = Object.freeze([
  // *_rq(_<response_code>)
  { tagName: 'envoy.response_code', regex: '_rq(_(\\d{3}))$', substr: '_rq_' },
  // *_rq_(<response_code_class>)xx
  { tagName: 'envoy.response_code_class', regex: '_rq_(\\d)xx$', substr: '_rq_' },
  // tcp.(<stat_prefix>.)<base_stat>
  { tagName: 'envoy.tcp_prefix', regex: '^tcp\\.((.*?)\\.)\\w+?$' },
  // cluster.(<cluster_name>.)*
  { tagName: 'envoy.cluster_name', regex: '^cluster\\.((.*?)\\.)' },
  // http.(<stat_prefix>.)* or listener.[<address>.]http.(<stat_prefix>.)*
  { tagName: 'envoy.http_conn_manager_prefix', regex: '^(?:|listener(?=\\.).*?\\.)http\\.((.*?)\\.)', substr: 'http.' },
  // listener.(<address>.)*
  {
    tagName: 'envoy.listener_address',
    regex: '^listener\\.(((?:[_.[:digit:]]*|[_\\[\\]aAbBcCdDeEfF[:digit:]]*))\\.)',
  },
]);

/** The stats_tags Istio's bootstrap template sets (with use_all_default_tags false), minus its per-mesh extras. */
export const ISTIO_TAG_SPECIFIERS: readonly TagSpecifier[] = Object.freeze([
  { tagName: 'cluster_name', regex: '^cluster(\\.(.+);)' },
  {
    tagName: 'http_conn_manager_prefix',
    regex: '^http\\.(((?:[_.[:digit:]\\w]*|[_\\[\\]aAbBcCdDeEfF[:digit:]\\w\\:]*));\\.)',
  },
  { tagName: 'thread_name', regex: '^server(\\.(.+))\\.watchdog' },
  { tagName: 'tcp_prefix', regex: '^tcp\\.((.*?)\\.)\\w+?$' },
  { tagName: 'response_code', regex: '_rq(_(\\d{3}))$' },
  { tagName: 'response_code_class', regex: '_rq(_(\\dxx))$' },
  {
    tagName: 'http_conn_manager_listener_prefix',
    regex: '^listener(?=\\.).*?\\.http\\.(((?:[_.[:digit:]]*|[_\\[\\]aAbBcCdDeEfF[:digit:]]*))\\.)',
  },
  {
    tagName: 'listener_address',
    regex: '^listener\\.(((?:[_.[:digit:]]*|[_\\[\\]aAbBcCdDeEfF[:digit:]]*))\\.)',
  },
  { tagName: 'mongo_prefix', regex: '^mongo\\.(.+?)\\.(collection|cmd|cx_|op_|delays_|decoding_)(.*?)$' },
  { tagName: 'cache', regex: '(cache\\.(.+?)\\.)' },
  { tagName: 'component', regex: '(component\\.(.+?)\\.)' },
  { tagName: 'tag', regex: '(tag\\.(.+?);\\.)' },
  { tagName: 'wasm_filter', regex: '(wasm_filter\\.(.+?)\\.)' },
  { tagName: 'authz_enforce_result', regex: 'rbac(\\.(allowed|denied))' },
  { tagName: 'authz_dry_run_action', regex: '(\\.istio_dry_run_(allow|deny)_)' },
  { tagName: 'authz_dry_run_result', regex: '(\\.shadow_(allowed|denied))' },
]);

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  digit: '\\d',
  alpha: 'a-zA-Z',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\s',
  xdigit: '0-9a-fA-F',
  word: '\\w',
  punct: '!-\\/:-@\\[-`{-~',
};

/** Translates POSIX bracket classes (`[:digit:]`), which ECMAScript regexes lack. */
export function translatePosixClasses(regex: string): string {
  return regex.replace(/\[:([a-z]+):\]/g, (whole, name: string) => POSIX_CLASSES[name] ?? whole);
}

interface CompiledExtractor {
  readonly name: string;
  readonly re: RegExp;
  readonly substr: string;
  readonly prefix: string;
  sharedName: boolean;
}

function regexStartsWithDot(rest: string): boolean {
  return rest.startsWith('\\.') || rest.startsWith('(?=\\.)');
}

/** The literal first token a regex requires (TagExtractorImplBase::extractRegexPrefix), or ''. */
export function regexPrefixToken(regex: string): string {
  if (!regex.startsWith('^')) return '';
  for (let i = 1; i < regex.length; i++) {
    const c = regex.charAt(i);
    if (/[A-Za-z0-9_]/.test(c)) continue;
    if (i > 1) {
      const last = i === regex.length - 1;
      if ((!last && regexStartsWithDot(regex.slice(i))) || (last && c === '$')) return regex.slice(1, i);
    }
    return '';
  }
  return '';
}

export type CompileTagResult =
  | { readonly ok: true; readonly value: TagProducer }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Applies a fixed list of extractors; build one per store with compileTagProducer(). */
export class TagProducer {
  private readonly withoutPrefix: readonly CompiledExtractor[];
  private readonly byPrefix: ReadonlyMap<string, readonly CompiledExtractor[]>;

  constructor(extractors: readonly CompiledExtractor[]) {
    const without: CompiledExtractor[] = [];
    const byPrefix = new Map<string, CompiledExtractor[]>();
    const seen = new Map<string, CompiledExtractor>();
    for (const e of extractors) {
      const other = seen.get(e.name);
      if (other !== undefined) {
        other.sharedName = true;
        e.sharedName = true;
      } else {
        seen.set(e.name, e);
      }
      if (e.prefix === '') without.push(e);
      else {
        const list = byPrefix.get(e.prefix) ?? [];
        list.push(e);
        byPrefix.set(e.prefix, list);
      }
    }
    this.withoutPrefix = without;
    this.byPrefix = byPrefix;
  }

  produce(name: string): TaggedName {
    const tags: Tag[] = [];
    const removals: [number, number][] = [];
    const seenShared = new Set<string>();
    const run = (e: CompiledExtractor): void => {
      if (e.sharedName && seenShared.has(e.name)) return;
      if (e.substr !== '' && !name.includes(e.substr)) return;
      e.re.lastIndex = 0;
      const m = e.re.exec(name);
      if (m === null || m[1] === undefined || m.indices === undefined) return;
      const span = m.indices[1];
      if (span === undefined) return;
      tags.push({ name: e.name, value: m[2] ?? m[1] });
      removals.push([span[0], span[1]]);
      if (e.sharedName) seenShared.add(e.name);
    };
    for (const e of this.withoutPrefix) run(e);
    const dot = name.indexOf('.');
    if (dot > 0) {
      const list = this.byPrefix.get(name.slice(0, dot));
      if (list !== undefined) for (const e of list) run(e);
    }
    return { extractedName: removeSpans(name, removals), tags };
  }
}

function removeSpans(name: string, spans: [number, number][]): string {
  if (spans.length === 0) return name;
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let pos = 0;
  for (const [start, end] of spans) {
    if (start > pos) out += name.slice(pos, start);
    pos = Math.max(pos, end);
  }
  return out + name.slice(pos);
}

/**
 * Compiles tag specifiers (Envoy's `stats_config.stats_tags`); with `useAllDefaultTags` (Envoy's default
 * when the field is unset) Envoy's defaults run first. Collects every bad regex.
 */
export function compileTagProducer(
  specifiers: readonly TagSpecifier[],
  useAllDefaultTags: boolean,
): CompileTagResult {
  const all = useAllDefaultTags ? [...ENVOY_DEFAULT_TAG_SPECIFIERS, ...specifiers] : specifiers;
  const compiled: CompiledExtractor[] = [];
  const problems: string[] = [];
  for (const s of all) {
    if (s.tagName === '') {
      problems.push('tag_name cannot be empty');
      continue;
    }
    if (s.regex === '') {
      problems.push(`No regex specified for tag specifier and no default regex for name: '${s.tagName}'`);
      continue;
    }
    try {
      compiled.push({
        name: s.tagName,
        re: new RegExp(translatePosixClasses(s.regex), 'd'),
        substr: s.substr ?? '',
        prefix: regexPrefixToken(s.regex),
        sharedName: false,
      });
    } catch (err) {
      problems.push(`invalid regex for tag '${s.tagName}': ${(err as Error).message}`);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: new TagProducer(compiled) };
}
