import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { ScrapeJobState, ScrapeJobStore, ScrapeResult } from './job-store.js';
import type { Scraper } from './scraper.js';
import { parseScrapeUrl } from './scrape-url.js';

/** Resolvers for `schemas/scrape-job.graphql`. */
export function createScrapeJobResolvers(
  store: ScrapeJobStore,
  scraper: Scraper,
): GraphQLResolverMap<unknown> {
  return {
    Query: {
      scrapeJob: (_: unknown, { id }: { id: string }): ScrapeJobState | null =>
        store.get(id) ?? null,
      scrapeResult: (_: unknown, { id }: { id: string }): ScrapeResult | null =>
        store.result(id) ?? null,
    },
    Mutation: {
      scrapeWebsite: (_: unknown, { url }: { url: string }): string =>
        scraper.start(parseScrapeUrl(url)),
    },
    ScrapeJobState: {
      __resolveReference: ({ id }: { id: string }): ScrapeJobState | null => store.get(id) ?? null,
    },
  };
}
