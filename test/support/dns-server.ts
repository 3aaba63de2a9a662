// A real DNS server on 127.0.0.1 (UDP, a port of its own) for tests of DNS clusters: A and AAAA records
// that a test changes as it goes, NXDOMAIN for names it does not know, and SERVFAIL or silence on demand.
// Packets are encoded and decoded by dns-packet.

import { createSocket, type RemoteInfo } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import * as packet from 'dns-packet';
import { fromJson } from '@bufbuild/protobuf';
import { ClusterSchema, type Cluster } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { XDS_REGISTRY } from '../../src/xds/codec.js';

export interface DnsRecord {
  readonly address: string;
  readonly ttl: number;
}

export interface TestDnsServer {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  readonly port: number;
  /** Sets a name's records of one type (an empty list: the name exists without records of that type). */
  set(name: string, type: 'A' | 'AAAA', records: readonly DnsRecord[]): void;
  /** `answer` (default), `servfail` or `silent` (no reply: the resolver times out). */
  mode: 'answer' | 'servfail' | 'silent';
  /** Questions asked so far, as `<type> <name>`. */
  readonly queries: string[];
}

export async function startDnsServer(t: TestContext): Promise<TestDnsServer> {
  const records = new Map<string, { A: readonly DnsRecord[]; AAAA: readonly DnsRecord[] }>();
  const socket = createSocket('udp4');
  const server: TestDnsServer = {
    address: '',
    port: 0,
    mode: 'answer',
    queries: [],
    set(name, type, list) {
      const r = records.get(name.toLowerCase()) ?? { A: [], AAAA: [] };
      records.set(name.toLowerCase(), { ...r, [type]: list });
    },
  };
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    let q: packet.Packet;
    try {
      q = packet.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (question === undefined) return;
    server.queries.push(`${question.type} ${question.name}`);
    if (server.mode === 'silent') return;
    const known = records.get(question.name.toLowerCase());
    const rcode = server.mode === 'servfail' ? 'SERVFAIL' : known === undefined ? 'NXDOMAIN' : 'NOERROR';
    const list = known !== undefined && (question.type === 'A' || question.type === 'AAAA') ? known[question.type] : [];
    const answers: packet.Answer[] = rcode === 'NOERROR' ? list.map((r) => ({ type: question.type as 'A' | 'AAAA', class: 'IN', name: question.name, ttl: r.ttl, data: r.address })) : [];
    const reply = packet.encode({
      id: q.id ?? 0,
      type: 'response',
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (rcode === 'SERVFAIL' ? 2 : rcode === 'NXDOMAIN' ? 3 : 0),
      questions: [question],
      answers,
    });
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = (socket.address() as AddressInfo).port;
  Object.assign(server, { address: `127.0.0.1:${port}`, port });
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return server;
}

const CARES = 'type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig';

/** A STRICT_DNS cluster `shop` whose endpoint `shop.test:<port>` this server resolves (c-ares pointed at it). */
export function dnsCluster(dns: TestDnsServer, port: number, extra: Record<string, unknown> = {}, resolverOptions: Record<string, unknown> = {}): Cluster {
  return fromJson(
    ClusterSchema,
    {
      name: 'shop',
      type: 'STRICT_DNS',
      connectTimeout: '1s',
      dnsLookupFamily: 'V4_ONLY',
      respectDnsTtl: true,
      typedDnsResolverConfig: { name: 'envoy.network.dns_resolver.cares', typedConfig: { '@type': CARES, resolvers: [{ socketAddress: { address: '127.0.0.1', portValue: dns.port } }], ...resolverOptions } },
      loadAssignment: { clusterName: 'shop', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: 'shop.test', portValue: port } } } }] }] },
      ...extra,
    } as never,
    { registry: XDS_REGISTRY },
  );
}
