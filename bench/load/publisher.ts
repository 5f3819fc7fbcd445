import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';

/** Publishes `{"__typename":"Message","id":…}` events to rooms' subjects. */
export class EventPublisher {
  readonly #nc: NatsConnection;
  readonly #subjectTemplate: string;

  private constructor(nc: NatsConnection, subjectTemplate: string) {
    this.#nc = nc;
    this.#subjectTemplate = subjectTemplate;
  }

  static async connect(url: string, subjectTemplate: string): Promise<EventPublisher> {
    return new EventPublisher(
      await connect({ servers: url, name: 'bench-publisher' }),
      subjectTemplate,
    );
  }

  publish(room: string, messageId: string): void {
    this.#nc.publish(
      this.#subjectTemplate.replace('{room}', room),
      JSON.stringify({ __typename: 'Message', id: messageId }),
    );
  }

  close(): Promise<void> {
    return this.#nc.drain();
  }
}

/**
 * Calls `publish(n)` for n = 0 … count-1 at `rate` per second on a fixed schedule from the
 * first call; a late timer catches up with a burst, so the count per second holds.
 */
export async function atRate(
  count: number,
  rate: number,
  publish: (n: number) => void,
): Promise<void> {
  const start = performance.now();
  let next = 0;
  while (next < count) {
    const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    while (next < due) publish(next++);
    if (next < count) await sleep(Math.max(0, start + (next * 1000) / rate - performance.now()));
  }
}
