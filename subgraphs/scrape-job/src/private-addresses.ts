/**
 * Which addresses a scrape may not reach: this machine, private networks, link-local (cloud
 * metadata at 169.254.169.254 included), CGNAT, multicast and reserved ranges, in both
 * families. IPv6 forms that carry an IPv4 address are judged by that address.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** [network, prefix length]: special-purpose ranges (RFC 6890 and its IANA registries). */
const ipv4Ranges: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches this machine on Linux
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

const ipv6Ranges: readonly (readonly [string, number])[] = [
  ['::', 96], // unspecified, loopback, IPv4-compatible (deprecated)
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments, Teredo
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

/** A new BlockList of every range a scrape may not reach unless private addresses are allowed. */
export function privateAddressBlockList(): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of ipv4Ranges) list.addSubnet(network, prefix, 'ipv4');
  for (const [network, prefix] of ipv6Ranges) list.addSubnet(network, prefix, 'ipv6');
  return list;
}

/**
 * Whether `blockList` refuses `address` (an IPv4 or IPv6 literal, zone allowed). An IPv6
 * address that embeds an IPv4 one (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
 * `2002::/16`) is refused when either form is; anything that is not an IP is refused.
 */
export function isBlockedAddress(blockList: BlockList, address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIPv4(bare)) return blockList.check(bare, 'ipv4');
  if (!isIPv6(bare)) return true;
  if (blockList.check(bare, 'ipv6')) return true;
  const embedded = embeddedIPv4(bare);
  return embedded !== undefined && blockList.check(embedded, 'ipv4');
}

/** The eight 16-bit groups of a valid IPv6 address, `::` and a dotted IPv4 tail expanded. */
function groupsOf(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function embeddedIPv4(address: string): string | undefined {
  const g = groupsOf(address);
  const dotted = (high: number, low: number): string =>
    [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return dotted(g[6]!, g[7]!); // ::ffff:0:0/96
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return dotted(g[6]!, g[7]!); // NAT64
  if (g[0] === 0x2002) return dotted(g[1]!, g[2]!); // 6to4
  return undefined;
}
