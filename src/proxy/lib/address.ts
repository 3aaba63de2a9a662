// Socket addresses as Envoy prints them.

/** `address:port`, IPv6 in brackets (Envoy's Address::Ip asString(): `[::1]:80`). */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
