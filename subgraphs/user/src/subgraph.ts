import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  loadSubgraphSdl,
  serveSubgraph,
  type Logger,
  type RunningSubgraph,
} from '@edfs/subgraph-shared';
import { createUserResolvers } from './resolvers.js';
import { seedUsers } from './seed.js';
import { UserStore } from './store.js';

export interface UserSubgraphOptions {
  /**
   * The TCP port; 0 picks a free one.
   * @default 0
   */
  port?: number | undefined;
  /**
   * The interface to listen on.
   * @default '127.0.0.1'
   */
  host?: string | undefined;
  /**
   * Where failures are reported.
   * @default createSubgraphLogger('user')
   */
  logger?: Logger | undefined;
}

/** Starts the user subgraph with Alice (id 1) and Bob (id 2). It publishes no events. */
export async function createUserSubgraph(
  options: UserSubgraphOptions = {},
): Promise<RunningSubgraph> {
  const schema = buildSubgraphSchema([
    { typeDefs: loadSubgraphSdl('user'), resolvers: createUserResolvers(new UserStore(seedUsers)) },
  ]);
  return serveSubgraph({
    name: 'user',
    schema,
    port: options.port,
    host: options.host,
    logger: options.logger,
  });
}
