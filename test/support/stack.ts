import { connect, type NatsConnection } from 'nats';
import {
  startExampleStack,
  type ExampleStack,
  type ExampleStackOptions,
} from '../../stack/example-stack.js';
import { waitFor } from './wait.js';

export interface TestStack extends ExampleStack {
  /** A plain NATS client, for publishing what the CLI would (`nats pub`). */
  readonly nc: NatsConnection;
  publish(subject: string, payload: string | Record<string, unknown>): void;
  /** Resolves when the NATS server holds `count` subscriptions on `subject`. */
  subscribedOn(subject: string, count?: number): Promise<void>;
  /** Resolves when the router holds `count` client subscriptions. */
  subscriptionsOpen(count: number): Promise<void>;
}

/**
 * The example stack on free ports, and a NATS client to publish events with. Its scrape-job
 * subgraph may fetch private addresses (`SCRAPE_ALLOW_PRIVATE=1`, unless `env` says
 * otherwise): the tests' pages are on 127.0.0.1.
 */
export async function startTestStack(options: ExampleStackOptions = {}): Promise<TestStack> {
  const stack = await startExampleStack({
    ...options,
    env: { SCRAPE_ALLOW_PRIVATE: '1', ...options.env },
  });
  const nc = await connect({ servers: stack.natsUrl });
  return {
    ...stack,
    nc,
    publish(subject, payload) {
      nc.publish(subject, typeof payload === 'string' ? payload : JSON.stringify(payload));
    },
    subscribedOn(subject, count = 1) {
      return waitFor(
        `${count} subscription(s) on ${subject}`,
        async () => (await stack.nats!.subscriptionsOn(subject)) === count,
      );
    },
    subscriptionsOpen(count) {
      return waitFor(`${count} open subscription(s)`, () => stack.router.subscriptions === count);
    },
    async close() {
      await nc.close();
      await stack.close();
    },
  };
}
