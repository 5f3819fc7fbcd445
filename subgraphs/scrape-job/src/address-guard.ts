/**
 * Keeps scrapes off private addresses at the moment of connecting: the socket's own DNS
 * lookup is replaced by one that refuses the host if any of its addresses is blocked and
 * otherwise hands the socket exactly the addresses it checked, so a second DNS answer
 * (rebinding) never gets a say. IP literals skip lookups, so they are checked apart.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP, type BlockList, type LookupFunction } from 'node:net';
import { PrivateAddressError } from './errors.js';
import { isBlockedAddress } from './private-addresses.js';

/** The part of `dns.lookup` the guard calls: every address, in the order to try them. */
export type ResolveAll = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for `net.connect`/`tls.connect` that fails with `PrivateAddressError` when
 * `hostname` resolves to any address in `blockList`, and answers with the checked addresses.
 */
export function guardedLookup(
  blockList: BlockList,
  resolve: ResolveAll = dnsLookup,
): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const blocked = addresses.find(({ address }) => isBlockedAddress(blockList, address));
      if (blocked) return callback(new PrivateAddressError(hostname, blocked.address), '');
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      if (!first) return callback(notFound(hostname), '');
      callback(null, first.address, first.family);
    });
  };
}

/**
 * Refuses a URL hostname that is itself a blocked IP literal (`127.0.0.1`, `[::1]`), which
 * sockets connect to without a lookup; names are left to `guardedLookup`.
 *
 * @throws PrivateAddressError
 */
export function checkLiteralHost(blockList: BlockList, hostname: string): void {
  const address = hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(address) !== 0 && isBlockedAddress(blockList, address)) {
    throw new PrivateAddressError(hostname, address);
  }
}

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
    code: 'ENOTFOUND',
    hostname,
  });
}
