import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createRouter, type Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';

const artifacts = fileURLToPath(new URL('../test-results/', import.meta.url));
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const SUBSCRIPTION =
  'subscription InTheBrowser { messageAdded(roomID: "browser") { id text user { name } } }';

/** Debian's Chromium, headless, with nothing that reaches out to the network by itself. */
function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The text of one of GraphiQL's CodeMirror editors, as CodeMirror holds it. */
function editorText(page: Page, container: string): Promise<string> {
  type Editor = { CodeMirror: { getValue(): string } };
  return page
    .locator(`${container} .CodeMirror`)
    .evaluate((element) => (element as unknown as Editor).CodeMirror.getValue());
}

describe('GraphiQL, in a headless Chromium', () => {
  let stack: TestStack;
  let browser: Browser;
  beforeAll(async () => {
    stack = await startTestStack();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('loads from the router alone, reads the schema, and runs a subscription', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    const origin = new URL(stack.router.url).origin;
    const elsewhere: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`)) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    const pageErrors: Error[] = [];
    page.on('pageerror', (error) => pageErrors.push(error));
    const introspection = page.waitForResponse(
      (response) =>
        response.url() === stack.router.url &&
        (response.request().postData() ?? '').includes('__schema'),
    );

    await page.goto(stack.router.url);

    const schema = await introspection;
    expect(schema.status()).toBe(200);
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await page.locator('.graphiql-doc-explorer').getByText('Subscription').first().waitFor();

    // It opens on the example subscription, with the line that publishes an event for it.
    const opening = await editorText(page, '.graphiql-query-editor');
    expect(opening).toContain('messageAdded(roomID: "123")');
    expect(opening).toContain(`pnpm pub room.123.messages '{"__typename":"Message","id":"1"}'`);

    await page.locator('.graphiql-query-editor .CodeMirror').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.type(SUBSCRIPTION);
    // GraphiQL parses the editor after a pause in typing; the tab takes the operation's
    // name once it has, and only then does Run know this is a subscription.
    await page.locator('.graphiql-tab').filter({ hasText: 'InTheBrowser' }).waitFor();
    expect(await editorText(page, '.graphiql-query-editor')).toBe(SUBSCRIPTION);
    await page.getByRole('button', { name: 'Prettify query (Shift-Ctrl-P)' }).click();
    await page.locator('.graphiql-query-editor').filter({ hasText: '    text' }).waitFor();
    await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).click();
    await stack.subscribedOn('room.browser.messages');

    stack.publish('room.browser.messages', { __typename: 'Message', id: '1' });

    const response = page.locator('.graphiql-response');
    await response.filter({ hasText: 'Alice' }).waitFor();
    expect(JSON.parse(await editorText(page, '.graphiql-response'))).toEqual({
      data: { messageAdded: { id: '1', text: 'Hello, Bob!', user: { name: 'Alice' } } },
      extensions: { cursor: expect.stringMatching(/^[\w-]+$/) },
    });
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: `${artifacts}graphiql-subscription.png` });
    expect(elsewhere).toEqual([]);
    expect(pageErrors).toEqual([]);

    await page.close();
    await stack.subscribedOn('room.browser.messages', 0);
  });

  it('serves the page to a browser and its assets from node_modules', async () => {
    const page = await fetch(stack.router.url, { headers: { accept: BROWSER_ACCEPT } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/graphiql\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual([
      '/graphiql/graphiql.min.css',
      '/graphiql/react.production.min.js',
      '/graphiql/react-dom.production.min.js',
      '/graphiql/graphiql.min.js',
      '/graphiql/graphiql-init.js',
    ]);
    for (const asset of assets) {
      const response = await fetch(new URL(asset, stack.router.url));
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/(css|javascript)/);
    }
    expect((await fetch(new URL('/graphiql/nope.js', stack.router.url))).status).toBe(404);
  });
});

describe('GraphiQL turned off', () => {
  let stack: TestStack;
  let router: Router;
  beforeAll(async () => {
    stack = await startTestStack();
    router = await createRouter({
      config: { ...stack.routerConfig, graphiql: false },
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await router?.close();
    await stack?.close();
  });

  it('answers a browser at GET /graphql as GraphQL over HTTP does', async () => {
    const response = await fetch(router.url, { headers: { accept: BROWSER_ACCEPT } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      errors: [{ message: 'Missing query', extensions: { code: 'BAD_REQUEST' } }],
    });

    const query = await fetch(
      `${router.url}?query=${encodeURIComponent('{ user(id: "1") { name } }')}`,
      {
        headers: { accept: BROWSER_ACCEPT },
      },
    );
    expect(await query.json()).toEqual({ data: { user: { name: 'Alice' } } });
    expect((await fetch(new URL('/graphiql/graphiql.min.js', router.url))).status).toBe(404);
  });
});
