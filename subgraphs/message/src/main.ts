import { runSubgraphMain } from '@edfs/subgraph-shared';
import { createMessageSubgraph } from './subgraph.js';

await runSubgraphMain({
  name: 'message',
  defaultPort: 4001,
  start: async ({ port, host, logger, connectPublisher }) =>
    createMessageSubgraph({ publisher: await connectPublisher(), port, host, logger }),
});
