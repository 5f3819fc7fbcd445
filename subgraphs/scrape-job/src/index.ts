export { allowPrivateAddresses, ALLOW_PRIVATE_VARIABLE } from './allow-private.js';
export { createScrapeJobSubgraph } from './subgraph.js';
export type { ScrapeJobSubgraph, ScrapeJobSubgraphOptions } from './subgraph.js';
export { scrapeJobSubject } from './job-store.js';
export type { ScrapeJobState, SettledScrapeJobState } from './job-store.js';
