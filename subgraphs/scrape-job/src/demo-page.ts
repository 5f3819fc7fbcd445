import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '@edfs/subgraph-shared';

/** Where the scrape-job subgraph serves its demo page, beside `/graphql`. */
export const DEMO_PAGE_PATH = '/demo/slow-page';
/** The longest a demo page may take, in seconds. */
export const DEMO_PAGE_MAX_SECONDS = 60;
const defaultSeconds = 10;

export interface DemoPageOptions {
  /**
   * Demo pages being sent at once; one more is refused with 503 (and logged), since each
   * holds a connection for up to a minute.
   * @default 16
   */
  maxOpen?: number | undefined;
}

// Twenty parts of about the same size, so a scraper reports progress in steps of a tenth.
const parts = [
  '<!doctype html>\n<html><head><title>A slow page</title></head><body>\n<h1>A slow page</h1>\n',
  ...Array.from(
    { length: 18 },
    (_, i) =>
      `<p>Part ${String(i + 2).padStart(2, '0')} of 20. The scrape-job subgraph sends this page slowly, so that a scrape job can be watched.</p>\n`,
  ),
  '<p><a href="/demo/slow-page?seconds=0">The same page at once</a>.</p>\n</body></html>\n',
].map((part) => Buffer.from(part));
const pageBytes = parts.reduce((sum, part) => sum + part.length, 0);

/**
 * `GET /demo/slow-page?seconds=N`: a fixed HTML page with its `Content-Length`, sent in
 * twenty parts spread over N seconds (default 10, at most 60), so that scraping it shows a
 * job's progress rising without the internet. It answers loopback clients only: it is there
 * for the scraper on the same machine, not for the network.
 */
export function createDemoPage(options: DemoPageOptions & { logger: Logger }): RequestListener {
  const maxOpen = options.maxOpen ?? 16;
  const open = new Set<ServerResponse>();
  let refused = 0;

  return (req: IncomingMessage, res: ServerResponse) => {
    if (!isLoopback(req.socket.remoteAddress)) return void res.writeHead(404).end();
    if (req.method !== 'GET') return void plain(res, 405, 'Use GET.', { allow: 'GET' });
    const seconds = parseSeconds(new URL(req.url ?? '/', 'http://demo').searchParams);
    if (seconds === undefined) {
      return void plain(
        res,
        400,
        `seconds must be a number from 0 to ${DEMO_PAGE_MAX_SECONDS}, e.g. ?seconds=${defaultSeconds}.`,
      );
    }
    if (open.size >= maxOpen) {
      refused += 1;
      options.logger.warn({ maxOpen, refused }, 'demo page refused: too many being sent');
      return void plain(res, 503, `${maxOpen} demo pages are being sent; try again later.`, {
        'retry-after': '10',
      });
    }

    const interval = (seconds * 1000) / (parts.length - 1);
    const start = performance.now();
    let next = 0;
    let timer: NodeJS.Timeout | undefined;
    const send = (): void => {
      res.write(parts[next++]);
      if (next === parts.length) return void res.end();
      // Timed from the start, not from the last part, so that timer slack does not add up.
      timer = setTimeout(send, Math.max(0, start + next * interval - performance.now()));
    };
    open.add(res);
    res.once('close', () => {
      clearTimeout(timer);
      open.delete(res);
    });
    // The client went away mid-page; 'close' follows and cleans up.
    res.on('error', (error) => options.logger.debug({ err: error }, 'demo page not sent'));
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': pageBytes,
      'cache-control': 'no-store',
    });
    send();
  };
}

/** `seconds` from the query string: absent means the default; undefined means refused. */
function parseSeconds(query: URLSearchParams): number | undefined {
  const value = query.get('seconds');
  if (value === null) return defaultSeconds;
  if (!/^\d{1,2}(\.\d{1,3})?$/.test(value)) return undefined;
  const seconds = Number(value);
  return seconds <= DEMO_PAGE_MAX_SECONDS ? seconds : undefined;
}

function isLoopback(address: string | undefined): boolean {
  return address === '::1' || /^(::ffff:)?127\./.test(address ?? '');
}

function plain(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(message);
}
