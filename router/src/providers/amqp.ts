import {
  connect,
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
} from 'amqplib';
import { ExchangeConfigError, ProviderError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  amqpConnectionOptions,
  amqpHeartbeatUrl,
  BROKER_HANDSHAKE_TIMEOUT_MS,
  type AmqpSecurity,
} from './connection-options.js';
import type {
  EventProvider,
  ProviderTraits,
  SubjectSyntax,
  SubscriptionHandlers,
} from './provider.js';
import { PORTABLE_TOKEN_SYNTAX } from './token-syntax.js';

/**
 * One word of an AMQP routing key, from a client's argument: ASCII letters, digits and
 * `- _ ~ : @ + = %`, 1 to 128. That keeps out the separator `.` and the topic-exchange
 * wildcards `*` and `#` (in a binding key, `orders.#.shipped` would bind every order), white
 * space and control characters. A routing key is a short string: at most 255 bytes.
 */
export const AMQP_SUBJECT_SYNTAX: SubjectSyntax = PORTABLE_TOKEN_SYNTAX;

/** AMQP 0-9-1 (RabbitMQ) topic exchanges: live delivery, at most once. */
export const AMQP_TRAITS: ProviderTraits = {
  kind: 'amqp',
  syntax: AMQP_SUBJECT_SYNTAX,
  capabilities: { streams: false, request: false },
};

export interface AmqpProviderOptions {
  /** `amqp://user:password@host:port[/vhost]`, or `amqps://` for TLS. */
  url: string;
  /** The topic exchange events are published to; declared durable when missing. */
  exchange: string;
  logger: Logger;
  /** The provider's id in the config. @default "default" */
  id?: string;
  /** Connection name shown by the broker's management. @default "edfs-router" */
  name?: string;
  /** The longest pause between reconnection attempts; they start at 100 ms. @default 2000 */
  maxRetryMs?: number;
  /**
   * The heartbeat asked of the broker, rounded up to whole seconds: a broker silent for two
   * of them (frozen, or cut off) counts as gone, and the router reconnects. The URL's
   * `?heartbeat=` wins. @default 10000
   */
  pingIntervalMs?: number | undefined;
  /** User and password over the URL's, and TLS. @default the URL's */
  security?: AmqpSecurity;
}

/** One routing key the router's queue is bound to, and the subscriptions that share it. */
interface Binding {
  readonly handlers: Set<SubscriptionHandlers>;
  /** The broker has confirmed the binding on the current queue. */
  bound: boolean;
}

/** The channels and queue of one connection; new ones after each reconnect. */
interface Session {
  readonly model: ChannelModel;
  readonly channel: Channel;
  readonly queue: string;
  /**
   * The channel that publishes, in confirm mode (the broker says when it has taken a
   * message); opened on the first publish, and again after the broker closed it.
   */
  publisher?: Promise<ConfirmChannel> | undefined;
}

/**
 * Reads a topic exchange through one exclusive, auto-delete queue per router, consumed
 * without acknowledgements: a binding per routing key (the rendered topic), made when its
 * first subscriber comes and removed when its last one leaves. amqplib's recovery reconnects
 * with backoff; each new connection declares the exchange, a fresh queue (the broker drops
 * the old one with its connection) and every binding again. Publishing goes through a
 * second channel in confirm mode.
 */
export function connectAmqp(options: AmqpProviderOptions): EventProvider {
  const { logger, exchange } = options;
  const id = options.id ?? 'default';
  const bindings = new Map<string, Binding>();
  const reconnected: (() => void)[] = [];
  let session: Session | undefined;
  let closing = false;
  let everConnected = false;
  let outageLogged = false;

  const deliver = (message: ConsumeMessage | null): void => {
    if (message === null) {
      // The broker cancelled the consumer (its queue was deleted): start over.
      const lost = session;
      session = undefined;
      void lost?.model.close().catch(() => {});
      return;
    }
    const binding = bindings.get(message.fields.routingKey);
    if (binding) for (const handlers of binding.handlers) handlers.onMessage(message.content);
  };

  /** A binding the broker refused for good (e.g. 403): its subscribers are ended. */
  const refuse = (key: string, binding: Binding, cause: unknown): void => {
    if (bindings.get(key) !== binding) return;
    bindings.delete(key);
    const message = cause instanceof Error ? cause.message : 'binding refused';
    for (const handlers of binding.handlers) {
      handlers.onError(new ProviderError(message, 'amqp', key, { cause }));
    }
  };
  const confirm = (key: string, binding: Binding): void => {
    if (bindings.get(key) !== binding || binding.bound) return;
    binding.bound = true;
    for (const handlers of binding.handlers) handlers.onReady?.();
  };
  /** Binds a key on the current session; a lost connection is left to the next setup. */
  const bind = (current: Session, key: string, binding: Binding): void => {
    current.channel.bindQueue(current.queue, exchange, key).then(
      () => {
        if (session === current) confirm(key, binding);
      },
      (error: unknown) => {
        if (!closing && isRefusal(error)) refuse(key, binding, error);
      },
    );
  };

  /** The session's publishing channel; a refused publish closes it, and the next opens another. */
  const publisherOf = (current: Session): Promise<ConfirmChannel> => {
    if (current.publisher) return current.publisher;
    const opening = current.model.createConfirmChannel().then((publisher) => {
      publisher.on('error', (error: Error) =>
        logger.warn({ err: error }, 'AMQP publish channel error'),
      );
      publisher.on('close', () => {
        if (current.publisher === opening) current.publisher = undefined;
      });
      return publisher;
    });
    opening.catch(() => {
      if (current.publisher === opening) current.publisher = undefined;
    });
    current.publisher = opening;
    return opening;
  };

  /** Runs after every (re)connection, before amqplib reports it connected. */
  const setup = async (model: ChannelModel): Promise<void> => {
    const channel = await exchangeChannel(model, exchange);
    channel.on('error', (error: Error) => logger.warn({ err: error }, 'AMQP channel error'));
    channel.on('close', () => {
      if (session?.channel !== channel) return;
      // The channel died on its own (a refused operation): reconnect to get a new one.
      session = undefined;
      if (!closing) void model.close().catch(() => {});
    });
    const { queue } = await channel.assertQueue('', {
      exclusive: true,
      autoDelete: true,
      durable: false,
    });
    await channel.consume(queue, deliver, { noAck: true });
    const keys = [...bindings.keys()];
    for (const key of keys) {
      try {
        await channel.bindQueue(queue, exchange, key);
      } catch (error) {
        const binding = bindings.get(key);
        if (binding && isRefusal(error)) refuse(key, binding, error);
        throw error; // the channel is gone: amqplib reconnects and runs setup again
      }
    }
    const current: Session = { model, channel, queue };
    session = current;
    // Subscribers that came or went while the bindings were being made.
    for (const key of keys) {
      if (!bindings.has(key)) void channel.unbindQueue(queue, exchange, key).catch(() => {});
    }
    for (const [key, binding] of bindings) {
      if (keys.includes(key)) confirm(key, binding);
      else bind(current, key, binding);
    }
  };

  let firstSettled!: () => void;
  let firstFailed!: (error: Error) => void;
  const firstAttempt = new Promise<void>((resolve, reject) => {
    firstSettled = resolve;
    firstFailed = reject;
  });
  const { url, socket } = amqpConnectionOptions(options.url, options.security ?? {});
  const connection = connect(amqpHeartbeatUrl(url, options.pingIntervalMs ?? 10_000), {
    ...socket,
    // Idle this long before the handshake is done (a broker that never answers): retried.
    timeout: BROKER_HANDSHAKE_TIMEOUT_MS,
    clientProperties: { connection_name: options.name ?? 'edfs-router' },
    recovery: {
      waitForConnect: false,
      initialDelay: 100,
      maxDelay: options.maxRetryMs ?? 2000,
      maxRetries: Number.POSITIVE_INFINITY,
      setup,
    },
  }).then((recovering) => {
    recovering.on('connect', () => {
      outageLogged = false;
      logger.info({ exchange }, 'connected to AMQP');
      if (everConnected) for (const listener of reconnected) listener();
      everConnected = true;
      firstSettled();
    });
    recovering.on('disconnect', (error: Error) => {
      for (const binding of bindings.values()) binding.bound = false;
      session = undefined;
      if (closing) return;
      outageLogged = true;
      logger.warn({ err: error }, 'lost the AMQP connection; reconnecting');
    });
    recovering.on('connect-failed', (error: Error) => {
      // A wrong exchange stops start-up (the error says it); found later, it is retried.
      if (error instanceof ExchangeConfigError && !everConnected) return firstFailed(error);
      firstSettled();
      if (closing || outageLogged) return; // one line per outage, not one per attempt
      outageLogged = true;
      const why =
        error instanceof ExchangeConfigError
          ? 'the AMQP exchange is not as the router needs it'
          : /NOT.FOUND.*exchange/i.test(error.message)
            ? 'the AMQP exchange does not exist and the router’s user may not declare it'
            : /ACCESS.REFUSED/.test(error.message)
              ? 'AMQP refused the router’s credentials or permissions'
              : 'cannot reach AMQP';
      logger.warn({ err: error }, `${why}; retrying${everConnected ? '' : ' in the background'}`);
    });
    recovering.on('error', (error: Error) => logger.warn({ err: error }, 'AMQP connection error'));
    return recovering;
  });
  connection.catch((error: unknown) => {
    logger.error({ err: error }, 'AMQP connection failed');
    firstSettled();
  });

  return {
    ...AMQP_TRAITS,
    id,
    name: 'amqp',
    firstAttempt,
    isConnected: () => session !== undefined,
    subscribe(key, handlers) {
      let binding = bindings.get(key);
      if (!binding) {
        binding = { handlers: new Set(), bound: false };
        bindings.set(key, binding);
        if (session) bind(session, key, binding);
      }
      binding.handlers.add(handlers);
      if (binding.bound) handlers.onReady?.();
      const entry = binding;
      return {
        unsubscribe: () => {
          if (!entry.handlers.delete(handlers) || entry.handlers.size > 0) return;
          if (bindings.get(key) !== entry) return;
          bindings.delete(key);
          if (!session || closing) return; // the next queue is declared without it
          session.channel
            .unbindQueue(session.queue, exchange, key)
            .catch((error: unknown) => logger.warn({ err: error, key }, 'AMQP unbind failed'));
        },
      };
    },
    async publish(key, data) {
      if (!session) throw new ProviderError('not connected', 'amqp', key);
      const current = session;
      try {
        const publisher = await publisherOf(current);
        await new Promise<void>((resolve, reject) =>
          publisher.publish(exchange, key, Buffer.from(data), {}, (error) =>
            error ? reject(error) : resolve(),
          ),
        );
      } catch (cause) {
        const message = cause instanceof Error ? cause.message : 'the broker refused the message';
        throw new ProviderError(message, 'amqp', key, { cause });
      }
    },
    // Start-up keeps request fields off this provider; a request is refused all the same.
    async request(key) {
      throw new ProviderError('AMQP topic exchanges have no request/reply here', 'amqp', key);
    },
    // Start-up keeps stream-reading fields off this provider; a replay is refused all the same.
    async *replay(request) {
      throw new ProviderError('AMQP queues store no messages to replay', 'amqp', request.subject);
    },
    onReconnect(listener) {
      reconnected.push(listener);
    },
    async close() {
      closing = true;
      bindings.clear();
      session = undefined;
      const recovering = await connection.catch(() => undefined);
      await recovering
        ?.close()
        .catch((error: unknown) => logger.warn({ err: error }, 'AMQP close failed'));
    },
  };
}

/**
 * A channel on which the exchange is known to exist: declared if it is missing. A user
 * without configure permission on an exchange its operators made is refused the declare
 * (403), which closes that channel, so the exchange is checked passively on a new one.
 */
async function exchangeChannel(model: ChannelModel, exchange: string): Promise<Channel> {
  const declaring = await model.createChannel();
  declaring.on('error', () => {}); // the refusal rejects the declare, below
  try {
    await declareExchange(declaring, exchange);
    return declaring;
  } catch (cause) {
    if ((cause as { code?: unknown } | null)?.code !== 403) throw cause;
  }
  const checking = await model.createChannel();
  checking.on('error', () => {}); // a missing exchange (404) rejects the check
  await checking.checkExchange(exchange);
  return checking;
}

/**
 * Declares the topic exchange (durable) unless it exists; one of that name with another type
 * or other settings is an `ExchangeConfigError` (the broker closes the channel with 406).
 */
async function declareExchange(channel: Channel, exchange: string): Promise<void> {
  try {
    await channel.assertExchange(exchange, 'topic', { durable: true });
  } catch (cause) {
    if ((cause as { code?: unknown } | null)?.code !== 406) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    const type = /inequivalent arg 'type'.*current is '([^']+)'/.exec(message)?.[1];
    throw new ExchangeConfigError(
      type
        ? `it exists as a ${type} exchange; the router needs a topic exchange (routing keys are topics)`
        : `it exists with other settings than a durable topic exchange (${message})`,
      exchange,
      { cause },
    );
  }
}

/** A server's refusal (an AMQP reply code such as 403 or 404), not a lost connection. */
function isRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 400;
}
