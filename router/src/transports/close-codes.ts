/**
 * WebSocket close codes the router sends, in one place. graphql-ws sends the same protocol
 * codes for graphql-transport-ws; the legacy protocol had none, so it borrows them.
 */
export enum CloseCode {
  /** The router is stopping; the client should reconnect (to another router). */
  GoingAway = 1001,
  /** A text frame that is not UTF-8 (sent by ws itself). */
  InvalidPayload = 1007,
  /** A message over `maxPayloadBytes` (sent by ws itself). */
  MessageTooBig = 1009,
  /** The router failed on this connection; details are in its log. */
  InternalError = 1011,
  /** The client fell too far behind its subscriptions; it may reconnect and resubscribe. */
  TryAgainLater = 1013,
  BadRequest = 4400,
  Unauthorized = 4401,
  /** The caller's token expired: reconnect with a new one. */
  Forbidden = 4403,
  SubprotocolNotAcceptable = 4406,
  ConnectionInitialisationTimeout = 4408,
  SubscriberAlreadyExists = 4409,
  TooManyInitialisationRequests = 4429,
}
