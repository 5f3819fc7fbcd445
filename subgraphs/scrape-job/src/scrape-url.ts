import { GraphQLError } from 'graphql';

function badUrl(message: string): GraphQLError {
  return new GraphQLError(`url ${message}`, {
    extensions: { code: 'BAD_USER_INPUT', argument: 'url' },
  });
}

/**
 * Parses the URL given to `scrapeWebsite`: it must be absolute and use `http:` or `https:`.
 *
 * @throws GraphQLError with `extensions.code` `BAD_USER_INPUT` saying what is wrong.
 */
export function parseScrapeUrl(input: string): URL {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    // WHATWG URL parsing fails only for relative or malformed input; its message says no more.
    throw badUrl(`"${input}" is not an absolute URL, e.g. https://example.com/`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badUrl(`scheme "${url.protocol}" is not supported; use http: or https:`);
  }
  return url;
}
