import { Redis } from 'ioredis';
import { freePort, removeDir, spawnBroker, tempDir, untilReady } from './broker-process.js';

export interface RedisServer {
  /** e.g. `redis://127.0.0.1:6390` */
  readonly url: string;
  readonly port: number;
  /** A client for the test itself (publishing, PUBSUB); closed on `stop`. */
  readonly client: Redis;
  publish(channel: string, payload: string | Record<string, unknown>): Promise<void>;
  /** Clients subscribed to exactly this channel now (`PUBSUB NUMSUB`). */
  subscribersOn(channel: string): Promise<number>;
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** @default a free port */
  port?: number;
}

/**
 * Spawns `redis-server` on loopback with a throwaway folder and no persistence, and waits
 * until it answers PING. It and its folder go on `stop`, or when our process exits.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = tempDir('redis');
  const server = spawnBroker('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
  ]);
  const url = `redis://127.0.0.1:${port}`;
  let client: Redis | undefined;
  const stop = async (): Promise<void> => {
    client?.disconnect();
    await server.stop();
    removeDir(dir);
  };
  try {
    client = await untilReady(
      'redis-server',
      server,
      async () => {
        const attempt = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
        attempt.on('error', () => {}); // a refused attempt is retried
        try {
          await attempt.connect();
          await attempt.ping();
          return attempt;
        } catch (error) {
          attempt.disconnect();
          throw error;
        }
      },
      10_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const ready = client;
  return {
    url,
    port,
    client: ready,
    async publish(channel, payload) {
      await ready.publish(channel, typeof payload === 'string' ? payload : JSON.stringify(payload));
    },
    async subscribersOn(channel) {
      const [, count] = (await ready.pubsub('NUMSUB', channel)) as [string, number];
      return Number(count);
    },
    stop,
  };
}
