/**
 * `pnpm pub [--provider <id>] <subject> <payload>`: publishes one message, like `nats pub`,
 * to NATS_URL; with `--provider`, to that provider of router.yaml (`--config <file>` for
 * another), whatever its broker: NATS, Redis (PUBLISH) or AMQP (the provider's exchange, the
 * subject as routing key).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { loadConfig, providerConfigs, type ProviderConfig } from '@edfs/router/config';
import {
  amqpConnectionOptions,
  natsConnectionOptions,
  redactUrl,
  redisConnectionOptions,
} from '@edfs/router/connection-options';

const { values, positionals } = parseArgs({
  options: { provider: { type: 'string' }, config: { type: 'string' } },
  allowPositionals: true,
});
const [subject, payload] = positionals;
const configFile = values.config ?? fileURLToPath(new URL('../router.yaml', import.meta.url));
const natsUrl = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
if (!subject || payload === undefined || positionals.length > 2) {
  console.error(`usage: pnpm pub [--provider <id>] [--config <router.yaml>] <subject> <payload>
  e.g. pnpm pub room.123.messages '{"__typename":"Message","id":"1"}'
  publishes to NATS_URL (now ${natsUrl}), or to provider <id> of the router's config`);
  process.exit(2);
}
// Sent all the same: publishing a bad event on purpose is how one tries INVALID_EVENT.
const problem = payloadProblem(payload);
if (problem) {
  console.error(
    `pnpm pub: warning: ${problem}; the router will answer subscribers with INVALID_EVENT`,
  );
}
// Only its URL and credentials matter to a publish (a ping interval is for long connections).
let provider: ProviderConfig = { kind: 'nats', url: natsUrl, streams: [], pingIntervalMs: 10_000 };
if (values.provider !== undefined) {
  const configs = providerConfigs(loadConfig(configFile));
  const named = configs.get(values.provider);
  if (!named) {
    console.error(
      `pnpm pub: ${configFile} has no provider "${values.provider}" (it has: ${[...configs.keys()].join(', ')})`,
    );
    process.exit(2);
  }
  provider = named;
}
try {
  await publish(provider, subject, payload);
  console.log(`published ${Buffer.byteLength(payload)} bytes to ${subject}`);
} catch (error) {
  console.error(
    `pnpm pub: cannot publish to ${redactUrl(provider.url)}: ${(error as Error).message}`,
  );
  process.exit(1);
}

async function publish(to: ProviderConfig, subject: string, payload: string): Promise<void> {
  switch (to.kind) {
    case 'nats': {
      const nc = await connect(natsConnectionOptions(to.url, to));
      nc.publish(subject, payload);
      await nc.drain();
      return;
    }
    // Each broker's client is loaded when used: a publish starts in well under a second.
    case 'redis': {
      const { Redis } = await import('ioredis');
      const redis = new Redis(to.url, {
        ...redisConnectionOptions(to),
        lazyConnect: true,
        retryStrategy: () => null,
      });
      redis.on('error', () => {}); // the failed command says why
      try {
        await redis.connect();
        await redis.publish(subject, payload);
      } finally {
        redis.disconnect();
      }
      return;
    }
    case 'amqp': {
      const { connect: connectAmqp } = await import('amqplib');
      const { url, socket } = amqpConnectionOptions(to.url, to);
      const connection = await connectAmqp(url, socket);
      try {
        const channel = await connection.createConfirmChannel();
        await channel.assertExchange(to.exchange, 'topic', { durable: true });
        channel.publish(to.exchange, subject, Buffer.from(payload));
        await channel.waitForConfirms();
      } finally {
        await connection.close();
      }
      return;
    }
  }
}

/** Why the router would refuse `payload` as an event, as far as it can be told without the schema. */
function payloadProblem(text: string): string | undefined {
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    return 'the payload is not JSON';
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return 'the payload is not a JSON object';
  }
  if (typeof (event as Record<string, unknown>)['__typename'] !== 'string') {
    return 'the payload has no "__typename"';
  }
  return undefined;
}
