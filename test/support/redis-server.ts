import { Redis } from 'ioredis';
import {
  freePort,
  onFreshPorts,
  removeDir,
  spawnBroker,
  tempDir,
  untilReady,
} from './broker-process.js';

export interface RedisServer {
  /** e.g. `redis://127.0.0.1:6390` */
  readonly url: string;
  readonly port: number;
  /** The TLS port, when started with `tls`. */
  readonly tlsPort: number | undefined;
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
  /**
   * Also listen with TLS on a free port (`tlsPort`), with this certificate; client
   * certificates are checked against `ca` when a client sends one. @default no TLS
   */
  tls?: { cert: string; key: string; ca: string };
}

/**
 * Spawns `redis-server` on loopback with a throwaway folder and no persistence, and waits
 * until it answers PING. It and its folder go on `stop`, or when our process exits.
 */
export function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  // A port the test chose is taken as it is: on another one the test would not find it.
  return options.port === undefined ? onFreshPorts(() => start(options)) : start(options);
}

async function start(options: RedisServerOptions): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const tlsPort = options.tls ? await freePort() : undefined;
  const tlsArgs = options.tls
    ? [
        ...['--tls-port', String(tlsPort), '--tls-cert-file', options.tls.cert],
        ...['--tls-key-file', options.tls.key, '--tls-ca-cert-file', options.tls.ca],
        ...['--tls-auth-clients', 'optional'],
      ]
    : [];
  const dir = tempDir('redis');
  const server = spawnBroker('redis-server', [
    ...tlsArgs,
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
    tlsPort,
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
