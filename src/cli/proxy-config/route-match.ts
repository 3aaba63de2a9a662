// How istioctl writes a route's match in one cell (configdump/listener.go describeMatch): a prefix as
// `<prefix>*` (so `/` reads `/*`), a path as is, `PathPrefix:<p>` for a path-separated prefix, and
// `regex <re>`; headers and query parameters are not shown.

import { obj, str, type JsonObject } from './json-fields.js';

export function describeMatch(match: JsonObject | undefined): string {
  const conds: string[] = [];
  const prefix = str(match, 'prefix');
  if (prefix !== '') conds.push(`${prefix}*`);
  const sep = str(match, 'path_separated_prefix');
  if (sep !== '') conds.push(`PathPrefix:${sep}`);
  const path = str(match, 'path');
  if (path !== '') conds.push(path);
  const regex = obj(match, 'safe_regex');
  if (regex !== undefined) conds.push(`regex ${str(regex, 'regex')}`);
  return conds.join(' ');
}
