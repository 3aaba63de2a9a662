// Envoy's DataSource for the few fields whose files the proxy reads itself (certificate revocation lists,
// which Istio passes as file paths from Gateway and DestinationRule `caCrl`): inline data as is, a file read
// when the resource is compiled, as Envoy reads it when the config loads. A file that cannot be read is a
// problem (a NACK), as in Envoy. Other certificate material comes by SDS or inline (see compile-cluster.ts).

import { readFileSync } from 'node:fs';
import type { DataSource } from '../../xds/gen/envoy/config/core/v3/base_pb.js';

export function dataSourceText(ds: DataSource | undefined, path: string, problems: string[]): string | undefined {
  const s = ds?.specifier;
  if (s === undefined || s.case === undefined) return undefined;
  if (s.case === 'inlineString') return s.value;
  if (s.case === 'inlineBytes') return Buffer.from(s.value).toString('utf8');
  if (s.case === 'filename') {
    try {
      return readFileSync(s.value, 'utf8');
    } catch (e) {
      problems.push(`${path}: cannot read ${s.value}: ${e instanceof Error && 'code' in e ? String(e.code) : String(e)}`);
      return undefined;
    }
  }
  problems.push(`${path}: ${s.case} data sources are not supported`);
  return undefined;
}
