import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { pino } from 'pino';
import { connectNatsPublisher, NatsConnectError } from '@edfs/subgraph-shared';
import { startNatsServer, type NatsServer } from '../stack/nats-server.js';

describe("the subgraphs' NATS publisher", () => {
  let nats: NatsServer;
  let subscriber: NatsConnection;
  beforeAll(async () => {
    nats = await startNatsServer();
    subscriber = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await subscriber?.close();
    await nats?.stop();
  });

  it('publishes events as JSON, then drains on close; later publishes are logged, not thrown', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const publisher = await connectNatsPublisher(nats.url, { logger });
    const subscription = subscriber.subscribe('room.1.messages', { max: 1 });
    await subscriber.flush();

    publisher.publish('room.1.messages', { __typename: 'Message', id: '7' });
    for await (const message of subscription) {
      expect(JSONCodec().decode(message.data)).toEqual({ __typename: 'Message', id: '7' });
    }

    await publisher.close();
    expect(() =>
      publisher.publish('room.1.messages', { __typename: 'Message', id: '8' }),
    ).not.toThrow();
    expect(lines.map((line) => JSON.parse(line) as { msg: string; subject: string })).toMatchObject(
      [{ msg: 'publish failed', subject: 'room.1.messages' }],
    );
  });

  it('fails with NatsConnectError when nobody listens', async () => {
    await expect(connectNatsPublisher('nats://127.0.0.1:1')).rejects.toThrow(NatsConnectError);
  });
});
