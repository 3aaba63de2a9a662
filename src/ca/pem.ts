// PEM framing (RFC 7468): wrap DER in a labelled base64 block, and split a bundle into its blocks.
// Knows nothing of what the blocks contain.

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/** Every `label` block in `text`, each re-framed canonically; text between blocks is ignored. */
export function pemBlocks(text: string, label = 'CERTIFICATE'): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  const out: string[] = [];
  for (const m of text.matchAll(re)) {
    const der = Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64');
    out.push(toPem(label, der));
  }
  return out;
}
