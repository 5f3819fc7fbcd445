import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isBlockedAddress, privateAddressBlockList } from './private-addresses.js';

const list = privateAddressBlockList();

describe('privateAddressBlockList', () => {
  it.each([
    ['0.0.0.0', 'this network'],
    ['0.255.255.255', 'this network, last'],
    ['10.0.0.0', 'private 10/8, first'],
    ['10.255.255.255', 'private 10/8, last'],
    ['100.64.0.0', 'CGNAT, first'],
    ['100.127.255.255', 'CGNAT, last'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback, far end'],
    ['169.254.0.0', 'link-local, first'],
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.255.255', 'link-local, last'],
    ['172.16.0.0', 'private 172.16/12, first'],
    ['172.31.255.255', 'private 172.16/12, last'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.0.2.1', 'documentation'],
    ['192.88.99.1', '6to4 relay'],
    ['192.168.0.0', 'private 192.168/16, first'],
    ['192.168.255.255', 'private 192.168/16, last'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking, last'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast, last'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
  ])('refuses IPv4 %s (%s)', (address) => {
    expect(isBlockedAddress(list, address)).toBe(true);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255', // just below 10/8
    '11.0.0.0', // just above 10/8
    '100.63.255.255', // just below CGNAT
    '100.128.0.0', // just above CGNAT
    '126.255.255.255', // just below loopback
    '128.0.0.0', // just above loopback
    '169.253.255.255',
    '169.255.0.0',
    '172.15.255.255', // just below 172.16/12
    '172.32.0.0', // just above 172.16/12
    '192.167.255.255',
    '192.169.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255', // just below multicast
    '93.184.216.34',
  ])('allows public IPv4 %s', (address) => {
    expect(isBlockedAddress(list, address)).toBe(false);
  });

  it.each([
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback, long form'],
    ['::127.0.0.1', 'IPv4-compatible'],
    ['fc00::', 'unique local, first'],
    ['fd12:3456:789a::1', 'unique local'],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'unique local, last'],
    ['fe80::', 'link-local, first'],
    ['fe80::1%eth0', 'link-local with a zone'],
    ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link-local, last'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001::1', 'Teredo'],
    ['100::1', 'discard-only'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['FE80::ABCD', 'upper case'],
    ['[::1]', 'in URL brackets'],
  ])('refuses IPv6 %s (%s)', (address) => {
    expect(isBlockedAddress(list, address)).toBe(true);
  });

  it.each([
    ['::ffff:127.0.0.1', 'mapped loopback'],
    ['::ffff:7f00:1', 'mapped loopback, hex'],
    ['0:0:0:0:0:ffff:7f00:1', 'mapped loopback, long form'],
    ['::ffff:169.254.169.254', 'mapped metadata'],
    ['::ffff:10.1.2.3', 'mapped private'],
    ['::ffff:0.0.0.0', 'mapped this network'],
    ['64:ff9b::127.0.0.1', 'NAT64 of loopback'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of metadata'],
    ['2002:7f00:1::', '6to4 of loopback'],
    ['2002:c0a8:101::1', '6to4 of 192.168.1.1'],
  ])('refuses %s (%s): judged by its IPv4 address', (address) => {
    expect(isBlockedAddress(list, address)).toBe(true);
  });

  it.each([
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2001:200::1', // just past 2001::/23
    'fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', // just below fc00::/7
    'fe00::1', // between unique local and link-local
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows public IPv6 %s', (address) => {
    expect(isBlockedAddress(list, address)).toBe(false);
  });

  it.each(['localhost', '', '127.0.0.1.', '1.2.3', 'fe80::1::2'])(
    'refuses %j, which is not an IP address',
    (address) => {
      expect(isBlockedAddress(list, address)).toBe(true);
    },
  );

  it('judges by the list it is given', () => {
    const only10 = new BlockList();
    only10.addSubnet('10.0.0.0', 8, 'ipv4');
    expect(isBlockedAddress(only10, '127.0.0.1')).toBe(false);
    expect(isBlockedAddress(only10, '10.0.0.1')).toBe(true);
    expect(isBlockedAddress(only10, '::ffff:10.0.0.1')).toBe(true);
    expect(isBlockedAddress(new BlockList(), '::1')).toBe(false);
  });
});
