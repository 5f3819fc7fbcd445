import type { ProviderConfig } from '../config.js';
import type { EventField } from '../events/event-field.js';
import type { Logger } from '../logger.js';
import { AMQP_TRAITS, connectAmqp } from './amqp.js';
import { connectNats, NATS_TRAITS } from './nats.js';
import type { EventProvider, ProviderKind, ProviderTraits } from './provider.js';
import { connectRedis, REDIS_TRAITS } from './redis.js';

/** What each kind of broker is, known before connecting (fields are bound first). */
export const PROVIDER_TRAITS: Readonly<Record<ProviderKind, ProviderTraits>> = {
  nats: NATS_TRAITS,
  redis: REDIS_TRAITS,
  amqp: AMQP_TRAITS,
};

/** The traits of every configured provider, by id, for binding fields. */
export function providerTraits(
  configs: ReadonlyMap<string, ProviderConfig>,
): ReadonlyMap<string, ProviderTraits> {
  return new Map([...configs].map(([id, config]) => [id, PROVIDER_TRAITS[config.kind]]));
}

/**
 * Connects every configured provider, each telling the broker what its fields need (NATS:
 * the streams they read), and waits for each first attempt, reached or not.
 */
export async function connectProviders(
  configs: ReadonlyMap<string, ProviderConfig>,
  fields: Iterable<EventField>,
  logger: Logger,
): Promise<ReadonlyMap<string, EventProvider>> {
  const bound = [...fields];
  const providers = new Map<string, EventProvider>();
  for (const [id, config] of configs) {
    const child = logger.child({ provider: id });
    switch (config.kind) {
      case 'nats':
        providers.set(
          id,
          connectNats({
            id,
            url: config.url,
            logger: child,
            streams: config.streams,
            pingIntervalMs: config.pingIntervalMs,
            security: config,
            requiredStreams: bound.flatMap(({ name, provider, stream, topic }) =>
              provider === id && stream
                ? [{ field: `Subscription.${name}`, stream, pattern: topic.pattern }]
                : [],
            ),
          }),
        );
        break;
      case 'redis':
        providers.set(
          id,
          connectRedis({
            id,
            url: config.url,
            pingIntervalMs: config.pingIntervalMs,
            security: config,
            logger: child,
          }),
        );
        break;
      case 'amqp':
        providers.set(
          id,
          connectAmqp({
            id,
            url: config.url,
            exchange: config.exchange,
            pingIntervalMs: config.pingIntervalMs,
            security: config,
            logger: child,
          }),
        );
        break;
    }
  }
  try {
    await Promise.all([...providers.values()].map((provider) => provider.firstAttempt));
  } catch (error) {
    await Promise.allSettled([...providers.values()].map((provider) => provider.close()));
    throw error;
  }
  return providers;
}
