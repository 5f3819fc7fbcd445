import type { LookupAddress, LookupOptions } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { checkLiteralHost, guardedLookup, type ResolveAll } from './address-guard.js';
import { PrivateAddressError } from './errors.js';
import { privateAddressBlockList } from './private-addresses.js';

const list = privateAddressBlockList();

/** A resolver that answers `addresses` for every name and counts its calls. */
function fakeResolver(addresses: LookupAddress[]): ResolveAll & { calls: number } {
  const resolve = Object.assign<ResolveAll, { calls: number }>(
    (_hostname, _options, callback) => {
      resolve.calls++;
      callback(null, addresses);
    },
    { calls: 0 },
  );
  return resolve;
}

function lookUp(
  resolve: ResolveAll,
  options: LookupOptions,
): Promise<{ error: Error | null; address: string | LookupAddress[]; family?: number }> {
  return new Promise((done) =>
    guardedLookup(list, resolve)('example.test', options, (error, address, family) =>
      done({ error, address, ...(family === undefined ? {} : { family }) }),
    ),
  );
}

const publicAddresses: LookupAddress[] = [
  { address: '93.184.216.34', family: 4 },
  { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
];

describe('guardedLookup', () => {
  it('hands the socket exactly the addresses it checked, once resolved', async () => {
    const resolve = fakeResolver(publicAddresses);
    expect(await lookUp(resolve, { all: true })).toEqual({ error: null, address: publicAddresses });
    expect(await lookUp(resolve, {})).toEqual({
      error: null,
      address: '93.184.216.34',
      family: 4,
    });
    expect(resolve.calls).toBe(2); // one resolution per connection, nothing resolved again
  });

  it.each([
    [[{ address: '127.0.0.1', family: 4 }], '127.0.0.1'],
    [[...publicAddresses, { address: '10.0.0.7', family: 4 }], '10.0.0.7'],
    [
      [publicAddresses[0]!, { address: '::ffff:169.254.169.254', family: 6 }],
      '::ffff:169.254.169.254',
    ],
    [[{ address: 'fe80::1%eth0', family: 6 }], 'fe80::1%eth0'],
  ])('refuses a name when any of its addresses is private: %j', async (addresses, blocked) => {
    for (const all of [true, false]) {
      const { error } = await lookUp(fakeResolver(addresses), { all });
      expect(error).toBeInstanceOf(PrivateAddressError);
      expect(error?.message).toBe(
        `example.test resolves to a private address (${blocked}); set SCRAPE_ALLOW_PRIVATE=1 to allow it`,
      );
    }
  });

  it('passes resolution errors on, and an empty answer as ENOTFOUND', async () => {
    const failing: ResolveAll = (_hostname, _options, callback) =>
      callback(Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' }), []);
    expect((await lookUp(failing, { all: true })).error).toMatchObject({ code: 'EAI_AGAIN' });
    expect((await lookUp(fakeResolver([]), {})).error).toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('checkLiteralHost', () => {
  it.each(['127.0.0.1', '[::1]', '[::ffff:7f00:1]', '169.254.169.254', '0.0.0.0', '[::]'])(
    'refuses the literal %s',
    (hostname) => {
      expect(() => checkLiteralHost(list, hostname)).toThrow(PrivateAddressError);
    },
  );

  it.each(['93.184.216.34', '[2606:4700:4700::1111]', 'localhost', 'example.com'])(
    'leaves %s to the lookup, or lets it through',
    (hostname) => {
      expect(() => checkLiteralHost(list, hostname)).not.toThrow();
    },
  );

  it('sees WHATWG URL forms of loopback as loopback', () => {
    for (const url of ['http://0x7f.1/', 'http://2130706433/', 'http://[0:0:0:0:0:ffff:7f00:1]/']) {
      expect(() => checkLiteralHost(list, new URL(url).hostname)).toThrow(PrivateAddressError);
    }
  });
});
