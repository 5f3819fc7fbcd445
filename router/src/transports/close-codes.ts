/**
 * WebSocket close codes the router sends itself; the protocol's own (4400, 4401, 4408,
 * 4409, 4429…) come from graphql-ws.
 */
export enum CloseCode {
  /** The client fell too far behind its subscriptions; it may reconnect and resubscribe. */
  TryAgainLater = 1013,
}
