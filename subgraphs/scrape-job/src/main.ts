import { runSubgraphMain } from '@edfs/subgraph-shared';
import { createScrapeJobSubgraph } from './subgraph.js';

await runSubgraphMain({
  name: 'scrape-job',
  defaultPort: 4003,
  start: async ({ port, host, logger, connectPublisher }) =>
    createScrapeJobSubgraph({ publisher: await connectPublisher(), port, host, logger }),
});
