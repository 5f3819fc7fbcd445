/**
 * Which protocol answers a request to `/graphql`, chosen from its `Accept` header.
 *
 * - `sse`: GraphQL over Server-Sent Events (`text/event-stream`).
 * - `multipart`: Apollo's multipart HTTP subscriptions (`multipart/mixed;subscriptionSpec=1.0`).
 * - `graphiql`: the GraphiQL page, for a browser (`text/html`).
 * - `http`: GraphQL over HTTP through graphql-http, which also answers 406 for a media
 *   type nobody here can produce.
 */
export type Protocol = 'sse' | 'multipart' | 'graphiql' | 'http';

export interface MediaRange {
  /** Lower-cased `type/subtype`, e.g. `multipart/mixed` or `*\/*`. */
  readonly type: string;
  /** Lower-cased parameter names; values unquoted. `q` is kept out of here. */
  readonly params: Readonly<Record<string, string>>;
  readonly q: number;
}

/**
 * Picks the first media range, by quality and then by the client's order, that one of the
 * protocols serves. `graphiql` is offered only when the page is enabled (and for `GET`).
 */
export function negotiate(accept: string | undefined, options: { graphiql: boolean }): Protocol {
  for (const range of parseAccept(accept ?? '*/*')) {
    const protocol = protocolFor(range, options);
    if (protocol) return protocol;
  }
  return 'http';
}

function protocolFor(range: MediaRange, { graphiql }: { graphiql: boolean }): Protocol | null {
  switch (range.type) {
    case 'text/event-stream':
      return 'sse';
    case 'multipart/mixed':
      // Without subscriptionSpec it asks for incremental delivery (@defer), which this
      // router does not do; graphql-http then answers as it would for any other type.
      return range.params['subscriptionspec'] === '1.0' ? 'multipart' : null;
    case 'text/html':
      return graphiql ? 'graphiql' : null;
    case 'application/graphql-response+json':
    case 'application/json':
    case 'application/*':
    case '*/*':
      return 'http';
    default:
      return null;
  }
}

/** The media types a GraphQL-over-HTTP answer is written in. */
export type HttpMediaType = 'application/graphql-response+json' | 'application/json';

/**
 * The media type of a GraphQL-over-HTTP answer, by the client's preference (quality, then
 * order), or `undefined` when it accepts neither (406). graphql-http takes the first type
 * it knows in the order written, q=0 included; it is handed this one alone. Only UTF-8.
 */
export function httpMediaType(accept: string | undefined): HttpMediaType | undefined {
  const ranges = parseAccept(accept || '*/*', { keepRefused: true });
  // A type refused by name (q=0) is not one a wildcard stands for.
  const refused = new Set(ranges.filter((range) => range.q <= 0).map((range) => range.type));
  for (const { type, params, q } of ranges) {
    if (q <= 0) break; // best first: the refused ones are last
    const charset = params['charset']?.toLowerCase();
    if (type === 'application/graphql-response+json' && (charset ?? 'utf-8') === 'utf-8') {
      return type;
    }
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') continue;
    if (type === 'application/json') return type;
    if (type === 'application/*' || type === '*/*') {
      // graphql-http's default for a wildcard, unless the client refused it by name.
      const open = HTTP_MEDIA_TYPES.find((candidate) => !refused.has(candidate));
      if (open) return open;
    }
  }
  return undefined;
}

/** In the order a wildcard is answered with. */
const HTTP_MEDIA_TYPES: readonly HttpMediaType[] = [
  'application/json',
  'application/graphql-response+json',
];

/**
 * Parses an `Accept` header into media ranges, best first; a range with q=0 is dropped,
 * unless `keepRefused` (then they come last).
 */
export function parseAccept(header: string, { keepRefused = false } = {}): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const item of splitOutsideQuotes(header, ',')) {
    const [type = '', ...rawParams] = splitOutsideQuotes(item, ';').map((part) => part.trim());
    if (!type.includes('/')) continue;
    const params: Record<string, string> = {};
    let q = 1;
    for (const param of rawParams) {
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      const name = param.slice(0, eq).trim().toLowerCase();
      const value = unquote(param.slice(eq + 1).trim());
      if (name === 'q') q = Number.isNaN(Number(value)) ? 1 : Number(value);
      else params[name] = value;
    }
    if (q > 0 || keepRefused) ranges.push({ type: type.toLowerCase(), params, q });
  }
  // Array.prototype.sort is stable: equal qualities keep the client's order.
  return ranges.sort((a, b) => b.q - a.q);
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1).replace(/\\(.)/g, '$1')
    : value;
}

/** Splits on `separator` except inside double quotes (`boundary="a,b"`). */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\' && quoted) i++;
    else if (char === '"') quoted = !quoted;
    else if (char === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
