import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where the page's scripts and styles are served. */
export const GRAPHIQL_ASSETS_PATH = '/graphiql/';

const require = createRequire(import.meta.url);
const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`));

/**
 * GraphiQL's browser build and the React it runs on, served from node_modules so the page
 * works with no network: graphiql 4 is the last GraphiQL with a self-contained browser
 * (UMD) build, which bundles its graphql-ws client, and React 18 the last React with one.
 */
const FILES: Readonly<Record<string, () => string>> = {
  'react.production.min.js': () => join(packageDir('react'), 'umd/react.production.min.js'),
  'react-dom.production.min.js': () =>
    join(packageDir('react-dom'), 'umd/react-dom.production.min.js'),
  'graphiql.min.js': () => join(packageDir('graphiql'), 'graphiql.min.js'),
  'graphiql.min.css': () => join(packageDir('graphiql'), 'graphiql.min.css'),
};

export interface GraphiQLOptions {
  /** The GraphQL endpoint the page talks to, as a path on this server. @default "/graphql" */
  endpoint?: string;
  /** The operation the editor opens with (until the browser has one of its own). @default GraphiQL's welcome text */
  defaultQuery?: string | undefined;
}

export interface GraphiQLHandler {
  /** Answers `GET /graphql` from a browser with the page. */
  page(req: IncomingMessage, res: ServerResponse): void;
  /** Answers a request under `/graphiql/`; false if it is not one of the assets. */
  asset(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
}

/**
 * GraphiQL for a browser: queries and mutations over HTTP, subscriptions over
 * graphql-transport-ws on the same path (GraphiQL's own `createFetcher`), the schema from
 * introspection through the router.
 */
export function createGraphiQL({
  endpoint = '/graphql',
  defaultQuery,
}: GraphiQLOptions = {}): GraphiQLHandler {
  // Read once, on first request: about 1.6 MB in all.
  const assets = new Map<string, Promise<Buffer>>([
    ['graphiql-init.js', Promise.resolve(Buffer.from(initScript(endpoint, defaultQuery)))],
  ]);
  const load = (name: string): Promise<Buffer> | undefined => {
    if (!assets.has(name) && Object.hasOwn(FILES, name)) {
      assets.set(name, readFile(FILES[name]!()));
    }
    return assets.get(name);
  };
  return {
    page(_req, res) {
      const html = pageHtml();
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(html),
        'cache-control': 'no-cache',
      });
      res.end(html);
    },
    async asset(req, res, path) {
      const name = path.slice(GRAPHIQL_ASSETS_PATH.length);
      const content = load(name);
      if (!content || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
      const body = await content;
      res.writeHead(200, {
        'content-type': `${name.endsWith('.css') ? 'text/css' : 'text/javascript'}; charset=utf-8`,
        'content-length': body.length,
        // The files change only with the installed packages, that is with a restart.
        'cache-control': 'public, max-age=3600',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
  };
}

function pageHtml(): string {
  const asset = (name: string): string => `${GRAPHIQL_ASSETS_PATH}${name}`;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>EDFS Router · GraphiQL</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${asset('graphiql.min.css')}" />
    <style>
      body { margin: 0; }
      #graphiql { height: 100dvh; }
    </style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script src="${asset('react.production.min.js')}"></script>
    <script src="${asset('react-dom.production.min.js')}"></script>
    <script src="${asset('graphiql.min.js')}"></script>
    <script src="${asset('graphiql-init.js')}"></script>
  </body>
</html>
`;
}

/** A file rather than an inline script, so a strict Content-Security-Policy can allow it. */
function initScript(endpoint: string, defaultQuery: string | undefined): string {
  return `'use strict';
(function () {
  var url = new URL(${JSON.stringify(endpoint)}, window.location.href);
  var subscriptionUrl = new URL(url);
  subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,${
        defaultQuery === undefined
          ? ''
          : `
      defaultQuery: ${JSON.stringify(defaultQuery)},`
      }
    }),
  );
})();
`;
}
