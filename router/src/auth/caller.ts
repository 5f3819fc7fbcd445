import type { GraphQLError } from 'graphql';

/**
 * Who sent an operation, as far as the router can tell: the verified claims of their token
 * (none for an anonymous caller) and the headers the router forwards to subgraphs on their
 * behalf. Transports build one per request (HTTP, SSE, multipart) or per connection
 * (WebSocket) through `RouterCore.identify`, and pass it to `prepare`. Everything that
 * decides what a caller may see or receive (authorization, claims in topics, fan-out
 * groups, entity batches) reads it from here, never from raw headers.
 */
export interface Caller {
  /** The token's verified claims; `undefined` for an anonymous caller. */
  readonly claims: Readonly<Record<string, unknown>> | undefined;
  /** Scopes granted by the token (its `scope` claim, split on spaces). */
  readonly scopes: ReadonlySet<string>;
  /** Values sent to subgraphs with every fetch made for this caller, by lower-case name. */
  readonly forwardedHeaders: Readonly<Record<string, string>>;
  /** When the caller's credentials stop being valid (ms since the epoch); none: never. */
  readonly expiresAt: number | undefined;
}

/** What a transport knows of a caller: its request's headers and, on a WebSocket, its `connection_init` payload. */
export interface Credentials {
  /** The request's headers (for a WebSocket, the upgrade request's), by lower-case name. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The WebSocket `connection_init` payload. */
  readonly connectionParams?: Readonly<Record<string, unknown>> | null | undefined;
}

/**
 * Turns credentials into a caller, or into the `UNAUTHENTICATED` error that refuses them
 * (HTTP 401, WebSocket close 4401).
 */
export type Identify = (credentials: Credentials) => Promise<Caller | GraphQLError>;

/** A caller who showed no credentials (or none were asked for), with nothing to forward. */
export const ANONYMOUS: Caller = Object.freeze({
  claims: undefined,
  scopes: new Set<string>(),
  forwardedHeaders: Object.freeze({}),
  expiresAt: undefined,
});

/** Identifies everyone as anonymous: the router without authentication. */
export const identifyAnonymous: Identify = () => Promise.resolve(ANONYMOUS);
