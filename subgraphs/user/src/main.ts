import { runSubgraphMain } from '@edfs/subgraph-shared';
import { createUserSubgraph } from './subgraph.js';

await runSubgraphMain({
  name: 'user',
  defaultPort: 4002,
  start: ({ port, host, logger }) => createUserSubgraph({ port, host, logger }),
});
