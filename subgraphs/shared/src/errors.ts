/**
 * Faults in the plumbing the example subgraphs share. Each carries the data a reader of the
 * log needs and the underlying `cause`; none of them reaches a GraphQL client.
 */

/** A subgraph's SDL file is missing, unreadable or not valid GraphQL. */
export class SubgraphSdlError extends Error {
  override readonly name = 'SubgraphSdlError';
  constructor(
    message: string,
    readonly file: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${message}`, options);
  }
}

/** The HTTP server could not listen on the requested host and port. */
export class SubgraphListenError extends Error {
  override readonly name = 'SubgraphListenError';
  constructor(
    readonly subgraph: string,
    readonly address: string,
    options?: ErrorOptions,
  ) {
    super(`[${subgraph}] cannot listen on ${address}`, options);
  }
}

/** An environment variable holds a value the subgraph cannot use. */
export class SubgraphConfigError extends Error {
  override readonly name = 'SubgraphConfigError';
  constructor(
    message: string,
    readonly variable: string,
    options?: ErrorOptions,
  ) {
    super(`${variable}: ${message}`, options);
  }
}

/** The NATS server refused the connection or could not be reached. */
export class NatsConnectError extends Error {
  override readonly name = 'NatsConnectError';
  constructor(
    readonly url: string,
    options?: ErrorOptions,
  ) {
    super(`cannot connect to NATS at ${url}`, options);
  }
}

/** An event could not be handed to the broker; logged, never thrown into a resolver. */
export class EventPublishError extends Error {
  override readonly name = 'EventPublishError';
  constructor(
    readonly subject: string,
    options?: ErrorOptions,
  ) {
    super(`cannot publish to ${subject}`, options);
  }
}
