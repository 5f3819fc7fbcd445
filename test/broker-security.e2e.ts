/**
 * Connection security against brokers started as a deployment's are: TLS with certificates
 * made by the test, and each broker's own authentication. The providers come from a real
 * `router.yaml` whose secrets are read from environment variables and files; one router
 * reads from all of them, and a second one, given wrong secrets, starts all the same, says
 * why in its log (never the secrets) and reports those providers down on /health.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as connectAmqp } from 'amqplib';
import { connect as connectNats, credsAuthenticator, nkeys, type ConnectionOptions } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { createRouter, loadConfig, type ProviderConfig, type RouterConfig } from '@edfs/router';
import { startNatsServer, type NatsServer } from '../stack/nats-server.js';
import { removeDir, tempDir } from './support/broker-process.js';
import { makeCertificates, type Certificates } from './support/certificates.js';
import { natsOperatorSetup } from './support/nats-jwt.js';
import { subscribe, wsClient } from './support/graphql.js';
import { startRabbitMqServer, type RabbitMqServer } from './support/rabbitmq-server.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';

const SECRETS = {
  token: 'nats-token-1f2e',
  natsPassword: 'nats-pw-9c8b',
  redisPassword: 'redis-pw-7a6d',
  rabbitPassword: 'rabbit-pw-5e4f',
};
const EXCHANGE = 'edfs-secure';

/** One field per secured provider, all on the same topic. */
const FIELDS = {
  natsToken: 'tokenNats',
  natsCreds: 'credsNats',
  natsNkey: 'nkeyNats',
  natsUser: 'userNats',
  redisAcl: 'cache',
  amqpTls: 'rabbit',
} as const;
type Field = keyof typeof FIELDS;

const EVENTS_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])

directive @eventsSubscribe(topic: String!, providerId: String = "default") on FIELD_DEFINITION

type Subscription {
${Object.entries(FIELDS)
  .map(
    ([field, provider]) =>
      `  ${field}(roomID: ID!): Message @eventsSubscribe(topic: "room.{{ args.roomID }}.messages", providerId: "${provider}")`,
  )
  .join('\n')}
}

type Message @key(fields: "id", resolvable: false) {
  id: ID!
}
`;

const subject = (room: string) => `room.${room}.messages`;
const event = JSON.stringify({ __typename: 'Message', id: '1' });

describe('broker connection security', () => {
  let dir: string;
  let certs: Certificates;
  let tokenNats: NatsServer;
  let credsNats: NatsServer;
  let userNats: NatsServer;
  let redis: RedisServer;
  let rabbit: RabbitMqServer;
  let providers: Record<string, ProviderConfig>;
  let stack: TestStack;
  let routerLog: string[];
  const env = {
    NATS_PASSWORD: SECRETS.natsPassword,
    REDIS_PASSWORD: SECRETS.redisPassword,
  };
  const nkey = nkeys.createUser();
  const nkeySeed = new TextDecoder().decode(nkey.getSeed());
  const operator = natsOperatorSetup();

  /** The `providers` of a router.yaml written to `dir`, loaded as the router would. */
  const loadProviders = (name: string, entries: Record<string, unknown>) => {
    const file = join(dir, name);
    writeFileSync(file, toYaml({ supergraph: 'unused.graphql', providers: entries }));
    return loadConfig(file, env).providers;
  };
  const configure = (config: RouterConfig, brokers: Record<string, ProviderConfig>) => {
    const schema = join(dir, 'events.graphql');
    writeFileSync(schema, EVENTS_SDL);
    config.events.schema = schema;
    config.nats.streams = [];
    config.providers = brokers;
  };
  const health = async (url: string) => {
    const response = await fetch(url.replace('/graphql', '/health'));
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  /** Publishes one event as the broker's own client would, once the router listens. */
  const publishers: Record<Field, (room: string) => Promise<void>> = {
    natsToken: (room) =>
      publishNats(tokenNats, room, { token: SECRETS.token, tls: { caFile: certs.ca } }),
    natsCreds: (room) =>
      publishNats(credsNats, room, {
        authenticator: credsAuthenticator(new TextEncoder().encode(operator.creds)),
      }),
    natsNkey: (room) => publishNats(userNats, room, userNatsClient()),
    natsUser: (room) => publishNats(userNats, room, userNatsClient()),
    redisAcl: async (room) => {
      await waitFor(
        'the router’s SUBSCRIBE',
        async () => (await redis.subscribersOn(subject(room))) === 1,
      );
      await redis.publish(subject(room), event);
    },
    amqpTls: async (room) => {
      await waitFor(
        'the router’s binding',
        async () => (await rabbit.bindingsOn(EXCHANGE, subject(room))) === 1,
        30_000,
      );
      await rabbit.publish(EXCHANGE, subject(room), event);
    },
  };
  const userNatsClient = (): Partial<ConnectionOptions> => ({
    user: 'publisher',
    pass: 'publisher',
    tls: { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey },
  });
  async function publishNats(
    server: NatsServer,
    room: string,
    options: Partial<ConnectionOptions>,
  ): Promise<void> {
    await waitFor(
      'the router’s SUB',
      async () => (await server.subscriptionsOn(subject(room))) === 1,
    );
    const nc = await connectNats({ servers: server.url, ...options });
    nc.publish(subject(room), event);
    await nc.drain();
  }

  beforeAll(async () => {
    dir = tempDir('security');
    certs = await makeCertificates(dir);
    const serverTls = (verify: boolean) =>
      `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.ca}", verify: ${verify} }`;
    const tls = { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca };
    [tokenNats, credsNats, userNats, redis, rabbit] = await Promise.all([
      startNatsServer({
        config: `${serverTls(false)}\nauthorization { token: "${SECRETS.token}" }\n`,
      }),
      startNatsServer({ config: operator.serverConfig }),
      // Mutual TLS: the server asks every client for a certificate signed by the CA.
      startNatsServer({
        config: `${serverTls(true)}
authorization {
  users: [
    { user: router, password: "${SECRETS.natsPassword}" }
    { user: publisher, password: publisher }
    { nkey: ${nkey.getPublicKey()} }
  ]
}
`,
      }),
      startRedisServer({ tls }),
      startRabbitMqServer({ tls }),
    ]);
    await redis.client.acl(
      'SETUSER',
      'router',
      'on',
      `>${SECRETS.redisPassword}`,
      '~*',
      '&*',
      '+@all',
    );
    await rabbit.ctl('add_user', 'router', SECRETS.rabbitPassword);
    await rabbit.ctl('set_permissions', 'router', '.*', '.*', '.*');

    writeFileSync(join(dir, 'nats-token'), `${SECRETS.token}\n`); // as `echo` writes it
    writeFileSync(join(dir, 'router.nk'), nkeySeed);
    writeFileSync(join(dir, 'router.creds'), operator.creds);
    writeFileSync(join(dir, 'rabbit-password'), SECRETS.rabbitPassword);
    const clientTls = { ca: 'ca.pem', cert: 'client.pem', key: 'client.key' };
    providers = loadProviders('router.yaml', {
      tokenNats: {
        kind: 'nats',
        url: tokenNats.url,
        token: { file: 'nats-token' },
        tls: { ca: 'ca.pem' },
      },
      credsNats: { kind: 'nats', url: credsNats.url, credentials: 'router.creds' },
      nkeyNats: { kind: 'nats', url: userNats.url, nkey: 'router.nk', tls: clientTls },
      userNats: {
        kind: 'nats',
        url: userNats.url,
        user: 'router',
        password: { env: 'NATS_PASSWORD' },
        tls: clientTls,
      },
      cache: {
        kind: 'redis',
        url: `redis://127.0.0.1:${redis.tlsPort}`,
        username: 'router',
        password: { env: 'REDIS_PASSWORD' },
        tls: clientTls,
      },
      rabbit: {
        kind: 'amqp',
        url: `amqp://127.0.0.1:${rabbit.tlsPort}`,
        exchange: EXCHANGE,
        username: 'router',
        password: { file: 'rabbit-password' },
        tls: { ca: 'ca.pem' },
      },
    });
    routerLog = [];
    stack = await startTestStack({
      configure: (config) => configure(config, providers),
      logger: pino({ level: 'info' }, { write: (line: string) => void routerLog.push(line) }),
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await Promise.all(
      [tokenNats, credsNats, userNats, redis, rabbit].map((server) => server?.stop()),
    );
    if (dir) removeDir(dir);
  }, 60_000);

  it.each(Object.keys(FIELDS) as Field[])('delivers an event through %s', async (field) => {
    const client = wsClient(stack.router.url);
    try {
      const sub = subscribe<Record<string, { id: string; text: string }>>(
        client,
        `subscription { ${field}(roomID: "${field}") { id text } }`,
      );
      await publishers[field](field);
      expect(await sub.next()).toEqual({ data: { [field]: { id: '1', text: 'Hello, Bob!' } } });
    } finally {
      await client.dispose();
    }
  });

  it('reports every secured provider connected, and logs no secret', async () => {
    expect(await health(stack.router.url)).toEqual({
      status: 200,
      body: {
        status: 'ok',
        nats: 'connected',
        providers: Object.fromEntries(
          ['default', ...Object.values(FIELDS)].map((id) => [id, 'connected']),
        ),
      },
    });
    const log = routerLog.join('');
    const credsSeed = /SU[A-Z2-7]+/.exec(operator.creds)![0];
    for (const secret of [...Object.values(SECRETS), nkeySeed, credsSeed]) {
      expect(log).not.toContain(secret);
    }
  });

  it('starts with wrong secrets, says why, and reports those providers down', async () => {
    const wrongSeed = new TextDecoder().decode(nkeys.createUser().getSeed());
    writeFileSync(join(dir, 'wrong.nk'), wrongSeed);
    // A user of another operator: signed, but not by an account this server trusts.
    writeFileSync(join(dir, 'wrong.creds'), natsOperatorSetup().creds);
    const wrong = loadProviders('wrong.yaml', {
      tokenNats: { ...providers['tokenNats'], token: 'not-the-token' },
      credsNats: { ...providers['credsNats'], credentials: 'wrong.creds' },
      nkeyNats: { ...providers['nkeyNats'], nkey: 'wrong.nk' },
      userNats: { ...providers['userNats'], password: 'not-the-password' },
      cache: { ...providers['cache'], password: 'not-the-password' },
      rabbit: { ...providers['rabbit'], password: 'not-the-password' },
    });
    const lines: string[] = [];
    const config = structuredClone(stack.routerConfig);
    configure(config, wrong);
    const router = await createRouter({
      config,
      logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
    });
    try {
      const says = (message: RegExp) =>
        waitFor(
          `the log to say ${message}`,
          () => lines.some((line) => message.test(line)),
          30_000,
        );
      await says(/"provider":"tokenNats".*NATS refused the router’s credentials/);
      await says(/"provider":"credsNats".*NATS refused the router’s credentials/);
      await says(/"provider":"nkeyNats".*NATS refused the router’s credentials/);
      await says(/"provider":"userNats".*NATS refused the router’s credentials/);
      await says(/"provider":"cache".*Redis refused the router’s credentials/);
      await says(/"provider":"rabbit".*AMQP refused the router’s credentials/);
      expect(await health(router.url)).toEqual({
        status: 503,
        body: {
          status: 'unavailable',
          nats: 'connected',
          providers: {
            default: 'connected',
            tokenNats: 'disconnected',
            credsNats: 'disconnected',
            nkeyNats: 'disconnected',
            userNats: 'disconnected',
            cache: 'disconnected',
            rabbit: 'disconnected',
          },
        },
      });
      const log = lines.join('');
      for (const secret of ['not-the-token', 'not-the-password', wrongSeed]) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await router.close();
    }
  });

  it('connects an AMQP user that may use, but not configure, the exchange its operators made', async () => {
    const model = await connectAmqp(rabbit.url);
    try {
      const channel = await model.createChannel();
      await channel.assertExchange('edfs-ops', 'topic', { durable: true });
    } finally {
      await model.close();
    }
    await rabbit.ctl('add_user', 'least', 'least-pw');
    // Configure only its own server-named queues; read and write anything.
    await rabbit.ctl('set_permissions', 'least', '^amq\\.gen-.*', '.*', '.*');
    const config = structuredClone(stack.routerConfig);
    configure(config, {
      ...providers,
      rabbit: {
        ...providers['rabbit'],
        username: 'least',
        password: 'least-pw',
        exchange: 'edfs-ops',
      } as ProviderConfig,
    });
    const router = await createRouter({ config, logger: pino({ level: 'silent' }) });
    try {
      await waitFor(
        'the provider connected',
        async () => (await health(router.url)).status === 200,
        20_000,
      );
      expect((await health(router.url)).body['providers']).toMatchObject({ rabbit: 'connected' });
    } finally {
      await router.close();
    }
  });

  it('refuses to start on an AMQP exchange of another type, naming it', async () => {
    const model = await connectAmqp(rabbit.url);
    try {
      const channel = await model.createChannel();
      await channel.assertExchange('edfs-direct', 'direct', { durable: false });
    } finally {
      await model.close();
    }
    const config = structuredClone(stack.routerConfig);
    configure(config, {
      ...providers,
      rabbit: { ...providers['rabbit'], exchange: 'edfs-direct' } as ProviderConfig,
    });
    await expect(createRouter({ config, logger: pino({ level: 'silent' }) })).rejects.toThrow(
      /^amqp exchange "edfs-direct": it exists as a direct exchange; the router needs a topic exchange/,
    );
  });
});
