import { GraphQLError } from 'graphql';
import type { Instrumentation } from '../instrumentation.js';
import type { Logger } from '../logger.js';
import { LogBudget } from '../log-budget.js';

/**
 * The one home of the router's caps on what clients hold open: connections (WebSockets,
 * SSE and multipart streams), subscriptions across every transport, and operations on one
 * WebSocket. Transports ask before they open something and give the place back when it
 * ends; every refusal is counted and logged here, and names its limit and value.
 */

export interface AdmissionOptions {
  /** Open WebSocket connections plus open SSE and multipart streams. @default 20000 */
  maxConnections: number;
  /** Open subscriptions across every transport. @default 50000 */
  maxSubscriptions: number;
  /** Operations open at once on one WebSocket connection. @default 100 */
  maxSubscriptionsPerConnection: number;
  instrumentation: Instrumentation;
  logger: Logger;
}

/** Gives a place back; calling it again does nothing. */
export type Release = () => void;

/** The cap on operations one connection may have running at once, on every protocol. */
export interface OperationLimit {
  readonly max: number;
  /** Counts and logs one refusal, and gives the error the client gets for it. */
  refuse(): GraphQLError;
}

export interface Admission {
  /** A connection or stream opens: its place, or the error that refuses it. */
  connection(): Release | GraphQLError;
  /** A subscription opens (on any transport): its place, or the error that refuses it. */
  subscription(): Release | GraphQLError;
  /** The per-connection cap, which WebSocket protocols check against their own count. */
  readonly perConnection: OperationLimit;
  /** Places taken now. */
  readonly connections: number;
  readonly subscriptions: number;
}

export function createAdmission({
  maxConnections,
  maxSubscriptions,
  maxSubscriptionsPerConnection,
  instrumentation,
  logger,
}: AdmissionOptions): Admission {
  let connections = 0;
  let subscriptions = 0;
  const place = (leave: () => void): Release => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      leave();
    };
  };
  // Clients decide how often they are refused; the log takes a few lines per interval.
  const logBudget = new LogBudget();
  return {
    connection() {
      if (connections >= maxConnections) {
        instrumentation.connectionRefused('max_connections');
        logBudget.warn(
          logger,
          { limit: 'maxConnections', max: maxConnections },
          'refused a connection',
        );
        return new GraphQLError(
          `The router has ${maxConnections} connections open, the most allowed (maxConnections). Try again later.`,
          {
            extensions: {
              code: 'TOO_MANY_CONNECTIONS',
              limit: 'maxConnections',
              max: maxConnections,
            },
          },
        );
      }
      connections++;
      return place(() => void connections--);
    },
    subscription() {
      if (subscriptions >= maxSubscriptions) {
        instrumentation.subscriptionRefused('max_subscriptions');
        logBudget.warn(
          logger,
          { limit: 'maxSubscriptions', max: maxSubscriptions },
          'refused a subscription',
        );
        return tooMany(
          `The router has ${maxSubscriptions} subscriptions open, the most allowed (maxSubscriptions). Try again later.`,
          'maxSubscriptions',
          maxSubscriptions,
        );
      }
      subscriptions++;
      return place(() => void subscriptions--);
    },
    perConnection: {
      max: maxSubscriptionsPerConnection,
      refuse() {
        instrumentation.subscriptionRefused('max_subscriptions_per_connection');
        logBudget.warn(
          logger,
          { limit: 'maxSubscriptionsPerConnection', max: maxSubscriptionsPerConnection },
          'refused a subscription over the per-connection limit',
        );
        return tooMany(
          `This connection already has ${maxSubscriptionsPerConnection} operations open, the most allowed (maxSubscriptionsPerConnection).`,
          'maxSubscriptionsPerConnection',
          maxSubscriptionsPerConnection,
        );
      },
    },
    get connections() {
      return connections;
    },
    get subscriptions() {
      return subscriptions;
    },
  };
}

function tooMany(message: string, limit: string, max: number): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit, max },
  });
}

/** Whether what `connection()` or `subscription()` gave is a refusal. */
export function isRefusal(value: Release | GraphQLError | undefined): value is GraphQLError {
  return value instanceof GraphQLError;
}
