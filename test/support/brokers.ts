import type { ProviderConfig } from '@edfs/router';
import { startRabbitMqServer } from './rabbitmq-server.js';
import { startRedisServer } from './redis-server.js';

/** What the suite needs of one broker: publish as its own client would, and look inside. */
export interface Broker {
  /** The provider entry that reaches it. */
  readonly provider: ProviderConfig;
  publish(subject: string, payload: string | Record<string, unknown>): Promise<void>;
  /** The broker's own count of the router subscriptions on exactly this subject. */
  subscriptionsOn(subject: string): Promise<number>;
  /** Whether a refused subscription costs the router its connection (RabbitMQ's channel). */
  readonly refusalReconnects: boolean;
  /** A provider entry whose user may read `allowed` only, of all subjects. */
  restricted(allowed: string): Promise<ProviderConfig>;
  /** Freezes the broker (`SIGSTOP`: its connections stay open, silent); resolves to a thaw. */
  freeze(): Promise<() => void>;
  /** Stops the broker; `start` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export const EXCHANGE = 'edfs-test';

export async function redisBroker(): Promise<Broker> {
  let server = await startRedisServer();
  const port = server.port;
  return {
    provider: { kind: 'redis', url: server.url },
    refusalReconnects: false,
    publish: (subject, payload) => server.publish(subject, payload),
    subscriptionsOn: (subject) => server.subscribersOn(subject),
    async restricted(allowed) {
      await server.client.acl(
        'SETUSER',
        'limited',
        'on',
        '>pw',
        '~*',
        '+@all',
        'resetchannels',
        `&${allowed}`,
      );
      return { kind: 'redis', url: `redis://limited:pw@127.0.0.1:${server.port}` };
    },
    async freeze() {
      const pid = Number(/process_id:(\d+)/.exec(await server.client.info('server'))![1]);
      return stopped(pid);
    },
    stop: () => server.stop(),
    async start() {
      server = await startRedisServer({ port });
    },
    close: () => server.stop(),
  };
}

export async function amqpBroker(): Promise<Broker> {
  const server = await startRabbitMqServer();
  return {
    provider: { kind: 'amqp', url: server.url, exchange: EXCHANGE },
    refusalReconnects: true,
    publish: (subject, payload) => server.publish(EXCHANGE, subject, payload),
    subscriptionsOn: (subject) => server.bindingsOn(EXCHANGE, subject),
    async restricted(allowed) {
      // Topic permissions: a binding's routing key must match the read pattern.
      await server.ctl('add_user', 'limited', 'pw');
      await server.ctl('set_permissions', 'limited', '.*', '.*', '.*');
      const key = `^${allowed.replace(/\./g, '\\.')}$`;
      await server.ctl('set_topic_permissions', 'limited', EXCHANGE, '.*', key);
      return {
        kind: 'amqp',
        url: server.url.replace('guest:guest', 'limited:pw'),
        exchange: EXCHANGE,
      };
    },
    freeze: async () => stopped(server.pid()),
    stop: () => server.halt(),
    start: () => server.boot(),
    close: () => server.stop(),
  };
}

/** Stops process `pid` with `SIGSTOP`; the function returned lets it go on. */
function stopped(pid: number): () => void {
  process.kill(pid, 'SIGSTOP');
  return () => process.kill(pid, 'SIGCONT');
}
