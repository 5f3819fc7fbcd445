/**
 * WebSocket close codes the router sends. graphql-ws sends the same protocol codes for
 * graphql-transport-ws; the legacy protocol had none, so it borrows them.
 */
export enum CloseCode {
  /** The client fell too far behind its subscriptions; it may reconnect and resubscribe. */
  TryAgainLater = 1013,
  BadRequest = 4400,
  Unauthorized = 4401,
  ConnectionInitialisationTimeout = 4408,
  TooManyInitialisationRequests = 4429,
}
