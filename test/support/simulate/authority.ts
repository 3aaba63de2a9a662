// :authority helpers shared by SNI defaults, HCM port stripping and virtual host lookup: the port of a
// `host:port` and the host without it (IPv6 literals in brackets kept whole).

export function portOf(authority: string): number | undefined {
  const m = /:(\d+)$/.exec(authority);
  return m !== null && !authority.endsWith(']') ? Number(m[1]) : undefined;
}

export function stripPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon >= 0 && authority.indexOf(':') === colon && /^\d+$/.test(authority.slice(colon + 1)) ? authority.slice(0, colon) : authority;
}
