/**
 * What `router.yaml` says of each broker: where it is, how the router proves who it is, and
 * (NATS) the streams it keeps. Secret values (`token`, `password`) arrive here already read
 * from where the file said they are (see `secrets.ts`); key material stays file paths.
 */
import { z } from 'zod';

const streamSchema = z.strictObject({
  /** The stream's name, as `@eventsSubscribe(stream:)` gives it. */
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only'),
  /** The subjects it captures, wildcards allowed: `room.*.messages`. */
  subjects: z.array(z.string().min(1)).min(1),
  /** How long an event is kept, in seconds; 0 keeps it until a count limit. @default 86400 */
  maxAgeSeconds: z.number().int().min(0).default(86_400),
  /** Events kept per subject (the oldest go first); -1 for no limit. @default 1000 */
  maxMessagesPerSubject: z.number().int().min(-1).default(1000),
  /** Where the server keeps them: `file` survives a restart. @default "file" */
  storage: z.enum(['file', 'memory']).default('file'),
});

/**
 * A secret's value, once read: from the YAML as written, `{ env: NAME }` or `{ file: path }`.
 * The schema sees it only after `readSecrets` has replaced the latter two by what they hold.
 */
const secret = z.string().min(1);

/**
 * TLS towards the broker: setting it (`tls: {}` for the system's CAs) turns TLS on. Paths
 * are PEM files, relative to the config file, read at start-up.
 */
const tlsSchema = z.strictObject({
  /** CA certificate(s) the broker's certificate must chain to. @default the system's CAs */
  ca: z.string().min(1).optional(),
  /** Client certificate, for brokers that ask for one (mutual TLS); needs `key`. */
  cert: z.string().min(1).optional(),
  /** The client certificate's private key; needs `cert`. */
  key: z.string().min(1).optional(),
});

const certWithKey = (tls: TlsFiles | undefined): boolean =>
  tls === undefined || (tls.cert === undefined) === (tls.key === undefined);
const TLS_PAIR = { message: '`tls.cert` and `tls.key` go together', path: ['tls'] };

/**
 * Whether each of `url`'s comma-separated servers is one nats.js can dial: `host`,
 * `host:port`, or either behind `nats://` or `tls://`. Caught here, a typo stops the router
 * at start instead of looking like a NATS server that is down.
 */
function isNatsServerList(url: string): boolean {
  return url.split(',').every((server) => {
    const entry = server.trim();
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `nats://${entry}`;
    const parsed = URL.canParse(withScheme) ? new URL(withScheme) : undefined;
    return (
      parsed !== undefined &&
      /^(nats|tls):$/.test(parsed.protocol) &&
      parsed.hostname !== '' &&
      /^\/?$/.test(parsed.pathname)
    );
  });
}

/**
 * How often (ms) the router pings the server (NATS, Redis). Two pings without an answer and
 * it takes the connection for dead and reconnects, so a server that stops answering (frozen,
 * cut off by a partition) is noticed within about three of these: `/health` says 503
 * meanwhile. @default 10000
 */
const pingIntervalMs = z.number().int().min(100).max(600_000);

const natsFields = {
  /** NATS server(s), comma-separated. Env: `NATS_URL`. @default "nats://127.0.0.1:4222" */
  url: z
    .string()
    .min(1)
    .refine(isNatsServerList, 'each server is host[:port], nats://host[:port] or tls://host[:port]')
    .default('nats://127.0.0.1:4222'),
  /**
   * JetStream streams the router creates when they are missing (an existing one must
   * capture the subjects listed). Fields name theirs with `@eventsSubscribe(stream:)`.
   * @default []
   */
  streams: z.array(streamSchema).default([]),
  pingIntervalMs: pingIntervalMs.default(10_000),
  /** A token the server's `authorization { token }` expects. A secret. */
  token: secret.optional(),
  /** User name, with `password`. */
  user: z.string().min(1).optional(),
  /** The user's password. A secret. */
  password: secret.optional(),
  /** A `.creds` file (user JWT and NKey seed), as `nsc` writes them. */
  credentials: z.string().min(1).optional(),
  /** A file holding an NKey seed (`SU…`), for servers that list the user's public NKey. */
  nkey: z.string().min(1).optional(),
  tls: tlsSchema.optional(),
};

/** One way to authenticate, and a password only with its user. */
function checkNatsAuth(nats: z.output<z.ZodObject<typeof natsFields>>, ctx: z.RefinementCtx) {
  const ways = (['token', 'user', 'credentials', 'nkey'] as const).filter((k) => nats[k]);
  if (ways.length > 1) {
    ctx.addIssue({ code: 'custom', message: `one of ${ways.join(', ')}, not several` });
  }
  if ((nats.user === undefined) !== (nats.password === undefined)) {
    ctx.addIssue({ code: 'custom', message: '`user` and `password` go together' });
  }
  if (!certWithKey(nats.tls)) ctx.addIssue({ code: 'custom', ...TLS_PAIR });
}

/** NATS streams are declared with the NATS provider that stores them. */
export const natsSchema = z.strictObject(natsFields).superRefine(checkNatsAuth);

/** A user name and password beside (over) the URL's, and TLS: what Redis and AMQP share. */
const loginFields = {
  /** User name (a Redis ACL user, a RabbitMQ user); over the URL's. */
  username: z.string().min(1).optional(),
  /** The password; over the URL's. A secret. */
  password: secret.optional(),
  tls: tlsSchema.optional(),
};

export const providerSchema = z.discriminatedUnion('kind', [
  z
    .strictObject({ kind: z.literal('nats'), ...natsFields })
    .superRefine((nats, ctx) => checkNatsAuth(nats, ctx)),
  z
    .strictObject({
      kind: z.literal('redis'),
      /**
       * `redis://[user:password@]host:port[/db]`, `rediss://` for TLS. Env:
       * `PROVIDER_<ID>_URL`. @default "redis://127.0.0.1:6379"
       */
      url: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
      /** As `nats.pingIntervalMs`, on the subscriber connection. @default 10000 */
      pingIntervalMs: pingIntervalMs.optional(),
      ...loginFields,
    })
    .refine((redis) => certWithKey(redis.tls), TLS_PAIR),
  z
    .strictObject({
      kind: z.literal('amqp'),
      /**
       * An AMQP 0-9-1 broker (RabbitMQ): `amqp://user:password@host:port[/vhost]`, `amqps://`
       * for TLS. Env: `PROVIDER_<ID>_URL`. @default "amqp://guest:guest@127.0.0.1:5672"
       */
      url: z.url({ protocol: /^amqps?$/ }).default('amqp://guest:guest@127.0.0.1:5672'),
      /**
       * The topic exchange events are published to, the rendered topic being the routing key;
       * the router declares it (durable) when it is missing, and refuses to start when one of
       * that name exists with another type. @default "edfs"
       */
      exchange: z.string().min(1).max(255).default('edfs'),
      /**
       * The AMQP heartbeat asked for, in whole seconds rounded up: two intervals without a
       * frame from the broker and the connection counts as gone. A `heartbeat` in the URL's
       * query wins. @default 10000
       */
      pingIntervalMs: pingIntervalMs.optional(),
      ...loginFields,
    })
    .refine((amqp) => certWithKey(amqp.tls), TLS_PAIR),
]);

export type ProviderConfig = z.output<typeof providerSchema>;
/** PEM file paths, resolved against the config file's folder. */
export type TlsFiles = z.output<typeof tlsSchema>;
