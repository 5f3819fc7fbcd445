/**
 * Infrastructure faults inside the router. Each carries the data a reader of the log needs
 * and the underlying `cause`; none of them is shown to a client as is.
 */

/** The configuration file is missing, unreadable or invalid. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly file: string | undefined,
    options?: ErrorOptions,
  ) {
    super(file ? `${file}: ${message}` : message, options);
  }
}

/** The subgraphs do not compose, or a supergraph or events graph cannot be used. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
  constructor(
    message: string,
    /** The subgraph at fault, when one is. */
    readonly subgraph?: string,
    options?: ErrorOptions,
  ) {
    super(subgraph ? `[${subgraph}] ${message}` : message, options);
  }
}

/** An `@eventsSubscribe` topic template that the router cannot use. */
export class TopicTemplateError extends Error {
  override readonly name = 'TopicTemplateError';
  constructor(
    message: string,
    readonly field: string,
    readonly template: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: topic "${template}": ${message}`, options);
  }
}

/** The message broker refused or lost a connection or a subscription. */
export class ProviderError extends Error {
  override readonly name: string = 'ProviderError';
  constructor(
    message: string,
    readonly provider: string,
    readonly subject?: string,
    options?: ErrorOptions,
  ) {
    super(`${provider}${subject ? ` (${subject})` : ''}: ${message}`, options);
  }
}

/** A request found nobody listening on its subject (NATS answers "no responders" at once). */
export class NoRespondersError extends ProviderError {
  override readonly name = 'NoRespondersError';
}

/** A publish or a request was not answered by the broker within its timeout. */
export class BrokerTimeoutError extends ProviderError {
  override readonly name = 'BrokerTimeoutError';
  constructor(
    provider: string,
    subject: string,
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(`no answer within ${timeoutMs} ms`, provider, subject, options);
  }
}

/** A replay cannot start where it was asked to: the stream has dropped those messages. */
export class StreamPositionGoneError extends ProviderError {
  override readonly name = 'StreamPositionGoneError';
  constructor(
    stream: string,
    subject: string,
    /** The position the replay was to start after, which the stream no longer holds. */
    readonly position: number,
  ) {
    super(`stream "${stream}" no longer holds position ${position}`, 'nats', subject);
  }
}

/** A JetStream stream that a field needs is missing or does not capture its subjects. */
export class StreamConfigError extends Error {
  override readonly name = 'StreamConfigError';
  constructor(
    message: string,
    readonly stream: string,
    options?: ErrorOptions,
  ) {
    super(`stream "${stream}": ${message}`, options);
  }
}

/** An AMQP exchange the router reads exists, but not as the topic exchange it needs. */
export class ExchangeConfigError extends Error {
  override readonly name = 'ExchangeConfigError';
  constructor(
    message: string,
    readonly exchange: string,
    options?: ErrorOptions,
  ) {
    super(`amqp exchange "${exchange}": ${message}`, options);
  }
}
