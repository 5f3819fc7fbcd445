export { createRouter } from './router.js';
export { loadConfig, parseConfig, providerConfigs } from './config.js';
export { composeSupergraph } from './schema/compose.js';
export { createLogger } from './logger.js';
export {
  amqpConnectionOptions,
  natsConnectionOptions,
  redisConnectionOptions,
} from './providers/connection-options.js';
export { redactUrl } from './providers/secrets.js';
export {
  ConfigError,
  ExchangeConfigError,
  ProviderError,
  SchemaError,
  TopicTemplateError,
} from './errors.js';
export type { Router, RouterOptions } from './router.js';
export type { ProviderConfig, RouterConfig, SubgraphConfig } from './config.js';
export type { Counters } from './counters.js';
export type { SubgraphSource } from './schema/compose.js';
