import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  loadSubgraphSdl,
  serveSubgraph,
  type EventPublisher,
  type Logger,
  type RunningSubgraph,
} from '@edfs/subgraph-shared';
import { createMessageResolvers } from './resolvers.js';
import { seedMessages } from './seed.js';
import { MessageStore } from './store.js';

export interface MessageSubgraphOptions {
  /** Receives `{"__typename":"Message","id":…}` on `room.<roomID>.messages` per added message. */
  publisher: EventPublisher;
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
   * @default createSubgraphLogger('message')
   */
  logger?: Logger | undefined;
}

/** Starts the message subgraph, seeded with Alice and Bob's conversation in room 123. */
export async function createMessageSubgraph(
  options: MessageSubgraphOptions,
): Promise<RunningSubgraph> {
  const store = new MessageStore(seedMessages);
  const schema = buildSubgraphSchema([
    {
      typeDefs: loadSubgraphSdl('message'),
      resolvers: createMessageResolvers(store, options.publisher),
    },
  ]);
  return serveSubgraph({
    name: 'message',
    schema,
    port: options.port,
    host: options.host,
    logger: options.logger,
  });
}
