import { runSubgraphMain } from '@edfs/subgraph-shared';
import { allowPrivateAddresses } from './allow-private.js';
import { createScrapeJobSubgraph } from './subgraph.js';

await runSubgraphMain({
  name: 'scrape-job',
  defaultPort: 4003,
  start: async ({ port, host, logger, connectPublisher }) =>
    createScrapeJobSubgraph({
      publisher: await connectPublisher(),
      port,
      host,
      logger,
      allowPrivateAddresses: allowPrivateAddresses(process.env),
    }),
});
