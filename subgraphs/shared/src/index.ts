export { serveSubgraph } from './serve.js';
export type { RunningSubgraph, ServeSubgraphOptions } from './serve.js';
export { loadSubgraphSdl } from './sdl.js';
export type { EntityEvent, EventPublisher } from './publisher.js';
export { connectNatsPublisher } from './nats-publisher.js';
export type { NatsPublisherOptions } from './nats-publisher.js';
export { runSubgraphMain } from './main.js';
export type { SubgraphMainOptions, SubgraphStartContext } from './main.js';
export { readSubgraphEnvironment } from './env.js';
export type { SubgraphEnvironment } from './env.js';
export { createSubgraphLogger } from './logger.js';
export type { Logger } from './logger.js';
export {
  EventPublishError,
  NatsConnectError,
  SubgraphConfigError,
  SubgraphListenError,
  SubgraphSdlError,
} from './errors.js';
