// envoy.config.core.v3.CidrRange compiled once into a membership test for RBAC's IP rules.
// Envoy (source/common/network/cidr_range.cc): an address matches only a range of its own IP version;
// the address prefix must be an IP literal. An IPv4-mapped IPv6 peer address (a dual-stack socket) is the
// IPv4 address, as Envoy reads such sockets (address_impl.cc addressFromSockAddr) — node's BlockList
// treats `::ffff:a.b.c.d` that way. A prefix_len longer than the address is refused (NACK) rather than
// silently matching nothing.

import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { CidrRange } from '../../../xds/gen/envoy/config/core/v3/address_pb.js';

export type IpPredicate = (ip: string) => boolean;

const NEVER: IpPredicate = () => false;

export function compileCidr(r: CidrRange, path: string, problems: string[]): IpPredicate {
  const family = isIPv4(r.addressPrefix) ? 'ipv4' : isIPv6(r.addressPrefix) ? 'ipv6' : undefined;
  if (family === undefined) {
    problems.push(`${path}.address_prefix: ${JSON.stringify(r.addressPrefix)} is not an IP address`);
    return NEVER;
  }
  const max = family === 'ipv4' ? 32 : 128;
  const len = r.prefixLen ?? 0; // UInt32Value: unset is 0, i.e. every address of the family
  if (len > max) {
    problems.push(`${path}.prefix_len: ${len} is longer than an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address (${max})`);
    return NEVER;
  }
  const list = new BlockList();
  list.addSubnet(r.addressPrefix, len, family);
  return (ip) => {
    if (isIPv4(ip)) return list.check(ip, 'ipv4');
    if (isIPv6(ip)) return list.check(ip, 'ipv6');
    return false;
  };
}
