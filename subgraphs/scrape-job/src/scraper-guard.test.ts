/**
 * The address guard on real sockets. Two loopback servers stand in for the internet: one
 * on 127.0.0.2, which the injected policy treats as public, and one on 127.0.0.1, which it
 * treats as private, as the default policy treats all of loopback.
 */
import { createServer, type Server } from 'node:http';
import { BlockList, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateAddressBlockList } from './private-addresses.js';
import { PublishedStates } from './scraper.fixtures.js';

const published = new PublishedStates();
const html = '<title>Reached</title><p>made it</p>';

/** Serves `/to?url=…` (302 there), `/loop` (307 to itself), `/missing` (404), else a page. */
function startServer(): Server & { requests: string[] } {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/to') {
      res.writeHead(302, { location: url.searchParams.get('url') ?? '/' }).end();
    } else if (url.pathname === '/missing') {
      res.writeHead(404).end();
    } else if (url.pathname === '/loop') {
      res.writeHead(307, { location: '/loop' }).end();
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    }
  });
  return Object.assign(server, { requests });
}

async function listen(server: Server, host: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

const outside = startServer(); // "public"
const inside = startServer(); // "private"
let outsideOrigin: string;
let insideOrigin: string;
let insidePort: string;

/** Everything on loopback is private except 127.0.0.2. */
const loopbackBut2 = new BlockList();
loopbackBut2.addRange('127.0.0.0', '127.0.0.1', 'ipv4');
loopbackBut2.addRange('127.0.0.3', '127.255.255.255', 'ipv4');
loopbackBut2.addAddress('::1', 'ipv6');

beforeAll(async () => {
  outsideOrigin = await listen(outside, '127.0.0.2');
  insideOrigin = await listen(inside, '127.0.0.1');
  insidePort = new URL(insideOrigin).port;
});

afterAll(async () => {
  for (const server of [outside, inside]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function to(url: string): URL {
  return new URL(`${outsideOrigin}/to?url=${encodeURIComponent(url)}`);
}

async function run(url: URL, options: Parameters<PublishedStates['createScraper']>[0]) {
  const { scraper, store } = published.createScraper(options);
  const state = await store.whenSettled(scraper.start(url));
  await scraper.close();
  return { state, result: store.result(state.id) };
}

describe('Scraper address guard', () => {
  it('refuses loopback by address and by name with the default policy, connecting to neither', async () => {
    const before = inside.requests.length;
    const blockList = privateAddressBlockList();
    expect((await run(new URL(`${insideOrigin}/page`), { blockList })).state).toMatchObject({
      status: 'FAILED',
      progress: null,
      error:
        '127.0.0.1 resolves to a private address (127.0.0.1); set SCRAPE_ALLOW_PRIVATE=1 to allow it',
    });
    const byName = await run(new URL(`http://localhost:${insidePort}/page`), { blockList });
    expect(byName.state.error).toMatch(
      /^localhost resolves to a private address \((127\.0\.0\.1|::1)\); set SCRAPE_ALLOW_PRIVATE=1 to allow it$/,
    );
    expect(inside.requests.length).toBe(before);
  });

  it('follows a redirect between allowed addresses', async () => {
    const { state, result } = await run(to(`${outsideOrigin}/page`), { blockList: loopbackBut2 });
    expect(state).toMatchObject({ status: 'COMPLETE' });
    expect(result).toMatchObject({ url: to(`${outsideOrigin}/page`).href, title: 'Reached' });
  });

  it.each([
    ['an address', () => `${insideOrigin}/page`, '127.0.0.1', /\(127\.0\.0\.1\)/],
    ['a name', () => `http://localhost:${insidePort}/page`, 'localhost', /\((127\.0\.0\.1|::1)\)/],
  ])(
    're-checks a redirect to %s that is private, and never connects to it',
    async (_, target, host, address) => {
      const before = inside.requests.length;
      const { state } = await run(to(target()), { blockList: loopbackBut2 });
      expect(state.status).toBe('FAILED');
      expect(state.error).toContain(
        `redirected to ${target()}: ${host} resolves to a private address (`,
      );
      expect(state.error).toMatch(address);
      expect(inside.requests.length).toBe(before);
    },
  );

  it('follows the same redirect to 127.0.0.1 when every address is allowed', async () => {
    const { state, result } = await run(to(`${insideOrigin}/page`), { blockList: undefined });
    expect(state).toMatchObject({ status: 'COMPLETE' });
    expect(result).toMatchObject({ title: 'Reached' });
  });

  it('gives up after maxRedirects redirects', async () => {
    const before = outside.requests.filter((url) => url === '/loop').length;
    const { state } = await run(new URL(`${outsideOrigin}/loop`), {
      blockList: loopbackBut2,
      maxRedirects: 3,
    });
    expect(state).toMatchObject({ status: 'FAILED', error: 'more than 3 redirects' });
    expect(outside.requests.filter((url) => url === '/loop').length - before).toBe(4);
  });

  it('refuses a redirect to a scheme other than http and https', async () => {
    const { state } = await run(to('file:///etc/passwd'), { blockList: undefined });
    expect(state).toMatchObject({
      status: 'FAILED',
      error: 'redirected to file:///etc/passwd: scheme "file:" is not supported',
    });
  });

  it('says which hop failed for other failures too', async () => {
    const { state } = await run(to(`${outsideOrigin}/missing`), { blockList: loopbackBut2 });
    expect(state).toMatchObject({
      status: 'FAILED',
      error: `redirected to ${outsideOrigin}/missing: HTTP 404 Not Found`,
    });
  });

  it('follows no redirect with maxRedirects 0', async () => {
    const { state } = await run(to(`${outsideOrigin}/page`), {
      blockList: undefined,
      maxRedirects: 0,
    });
    expect(state).toMatchObject({ status: 'FAILED', error: 'more than 0 redirects' });
  });
});
