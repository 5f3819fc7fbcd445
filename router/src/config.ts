import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UNFORWARDABLE_HEADERS } from './auth/forwarded-headers.js';
import { ConfigError } from './errors.js';

const subgraphSchema = z.strictObject({
  /** Path of the subgraph's SDL, relative to the config file. */
  schema: z.string().min(1),
  /** Where the router sends the subgraph's fetches. */
  url: z.url({ protocol: /^https?$/ }),
});

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

const metricsSchema = z.strictObject({
  /** Serve Prometheus metrics at `path`; off, that path answers 404. @default true */
  enabled: z.boolean().default(true),
  /** Where the metrics are served, on the router's port. @default "/metrics" */
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~/-]*$/, 'a path: / then letters, digits, . _ ~ / -')
    .refine(
      (path) => path !== '/graphql' && path !== '/health' && !path.startsWith('/graphiql'),
      'taken by /graphql, /health or GraphiQL',
    )
    .default('/metrics'),
});

const headersSchema = z.strictObject({
  /**
   * Request headers sent on to every subgraph with each fetch made for that caller (on a
   * WebSocket, the `connection_init` payload's value of the same name, else the upgrade
   * request's header), e.g. `[authorization, x-tenant-id]`. Callers whose forwarded values
   * differ never share a fan-out group or an entity batch. @default []
   */
  forward: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'a header name')
        .transform((name) => name.toLowerCase())
        .refine(
          (name) => !UNFORWARDABLE_HEADERS.has(name),
          'describes the connection to the router, not the caller: it cannot be forwarded',
        ),
    )
    .refine((names) => new Set(names).size === names.length, 'a header is named twice')
    .default([]),
});

const configSchema = z.strictObject({
  listen: z
    .strictObject({
      /** Interface to listen on. Env: `HOST`. @default "127.0.0.1" */
      host: z.string().min(1).default('127.0.0.1'),
      /** Port for `/graphql` and `/health`; 0 picks a free one. Env: `PORT`. @default 4000 */
      port: z.number().int().min(0).max(65535).default(4000),
    })
    .prefault({}),
  nats: z
    .strictObject({
      /** NATS server(s), comma-separated. Env: `NATS_URL`. @default "nats://127.0.0.1:4222" */
      url: z.string().min(1).default('nats://127.0.0.1:4222'),
      /**
       * JetStream streams the router creates when they are missing (an existing one must
       * capture the subjects listed). Fields name theirs with `@eventsSubscribe(stream:)`.
       * @default []
       */
      streams: z.array(streamSchema).default([]),
    })
    .prefault({}),
  events: z
    .strictObject({
      /** Name of the events graph in the supergraph. @default "events" */
      name: z.string().min(1).default('events'),
      /**
       * Path of the events graph SDL, whose fields carry `@eventsSubscribe`, composed with
       * `subgraphs`. Not needed with a `supergraph`, which carries the bindings; read then
       * only for a supergraph composed without our `@link` (a warning says what to add).
       * Without an events graph the router serves queries and mutations only.
       */
      schema: z.string().min(1).optional(),
    })
    .prefault({}),
  /** Subgraphs by name. Not needed when a supergraph is given. @default {} */
  subgraphs: z.record(z.string().regex(/^[A-Za-z][\w-]*$/), subgraphSchema).default({}),
  /** What the router passes on from clients' requests to the subgraphs. @default { forward: [] } */
  headers: headersSchema.prefault({}),
  /**
   * A Federation 2 supergraph SDL to serve instead of composing `subgraphs`: a file (watched
   * for changes) or an `http(s)://` URL (polled every `reload.pollIntervalMs`).
   */
  supergraph: z.string().min(1).optional(),
  /** How a new supergraph is picked up while the router runs; SIGHUP always reloads. */
  reload: z
    .strictObject({
      /** Reload when the supergraph file changes. @default true */
      watch: z.boolean().default(true),
      /** How often a supergraph URL is fetched again. @default 10000 */
      pollIntervalMs: z.number().int().min(1000).default(10_000),
    })
    .prefault({}),
  /** How long one subgraph fetch may take before it fails. @default 10000 */
  subgraphTimeoutMs: z.number().int().positive().default(10_000),
  /**
   * How long an entity fetch waits for others (e.g. events arriving together) to share
   * one subgraph request; 0 batches only what is concurrent already. @default 0
   */
  batchWindowMs: z.number().int().min(0).max(1000).default(0),
  /**
   * Results one subscriber may have waiting (its connection not taking them) before it is
   * dropped, so a slow client never holds up others or grows memory. @default 1000
   */
  slowSubscriberLimit: z.number().int().positive().default(1000),
  /**
   * The same bound in bytes (UTF-8 bytes of the results' JSON); 10 times either bound drops
   * a subscriber even when its connection looks clear. @default 8388608 (8 MiB)
   */
  slowSubscriberMaxBytes: z
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  /**
   * Event resolutions (one per fan-out group per event) running at once across the
   * router; more wait their turn in arrival order. @default 512
   */
  maxResolutionsInFlight: z.number().int().positive().default(512),
  /**
   * Resolutions of stored events for subscribers catching up from a cursor, at once across
   * the router; apart from live ones, which never wait behind them. @default 64
   */
  maxReplayResolutionsInFlight: z.number().int().positive().default(64),
  /**
   * Replays of stored events (each a short-lived consumer on the broker) running at once;
   * clients resuming beyond it wait their turn. @default 64
   */
  maxReplaysInFlight: z.number().int().positive().default(64),
  /**
   * Events one fan-out group may hold before it has delivered them; past it the group
   * drops events and its subscribers get one EVENTS_DROPPED error. @default 1000
   */
  maxPendingEventsPerGroup: z.number().int().positive().default(1000),
  /**
   * Representations in one merged `_entities` request to a subgraph; more go in the next
   * request. @default 1000
   */
  batchMaxRepresentations: z.number().int().positive().default(1000),
  /**
   * Operations one WebSocket connection may have open at once (both protocols); one more
   * is refused with TOO_MANY_SUBSCRIPTIONS. @default 100
   */
  maxSubscriptionsPerConnection: z.number().int().positive().default(100),
  /** The largest request body or WebSocket message accepted; a larger one is refused with 413. @default 1048576 */
  maxPayloadBytes: z.number().int().positive().default(1_048_576),
  /** Interval of the comment heartbeats on an SSE stream. @default 12000 */
  sseHeartbeatMs: z.number().int().positive().default(12_000),
  /** Interval of the `{}` heartbeat parts on a multipart stream. @default 5000 */
  multipartHeartbeatMs: z.number().int().positive().default(5_000),
  /** What one operation may hold; an operation over a limit is refused before planning. */
  limits: z
    .strictObject({
      /** Nested selection sets, fragments followed. @default 15 */
      maxDepth: z.number().int().positive().default(15),
      /** Aliased fields in one document. @default 30 */
      maxAliases: z.number().int().min(0).default(30),
      /** Fields at the root of one operation. @default 20 */
      maxRootFields: z.number().int().positive().default(20),
      /** Directives in one document. @default 50 */
      maxDirectives: z.number().int().min(0).default(50),
      /** Lexical tokens in one document, counted while parsing. @default 5000 */
      maxTokens: z.number().int().positive().default(5000),
    })
    .prefault({}),
  shutdown: z
    .strictObject({
      /**
       * How long a stopping router goes on serving, with `/ready` answering 503, before it
       * stops accepting connections, so that load balancers take it out first. @default 0
       */
      delayMs: z.number().int().min(0).max(300_000).default(0),
      /**
       * How long in-flight queries and mutations get to finish once streaming clients have
       * been told to go (WebSocket 1001, SSE and multipart streams ended); then the rest is
       * cut. @default 10000
       */
      graceMs: z.number().int().min(0).max(300_000).default(10_000),
    })
    .prefault({}),
  /** Serve GraphiQL to browsers at `GET /graphql`. @default true */
  graphiql: z.boolean().default(true),
  /** Prometheus metrics (`GET /metrics`). @default { enabled: true, path: "/metrics" } */
  metrics: metricsSchema.prefault({}),
  /**
   * How long a WebSocket client has to send its connection_init message (both protocols).
   * @default 3000
   */
  connectionInitTimeoutMs: z.number().int().positive().default(3_000),
});

export type RouterConfig = z.output<typeof configSchema>;
export type SubgraphConfig = z.output<typeof subgraphSchema>;

/** What the command line sets over the config file. */
export interface ConfigOverrides {
  /** `--supergraph`: serve this supergraph SDL (resolved against the working directory). */
  supergraph?: string | undefined;
}

/**
 * Reads the YAML config, applies environment overrides (`HOST`, `PORT`, `NATS_URL`,
 * `SUBGRAPH_<NAME>_URL`) and the command line's, validates it, and resolves its paths
 * against the file's folder.
 */
export function loadConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  overrides: ConfigOverrides = {},
): RouterConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError('cannot read the config file', file, { cause });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (cause) {
    throw new ConfigError(`not valid YAML: ${(cause as Error).message}`, file, { cause });
  }
  return parseConfig(raw, env, file, overrides);
}

/** Validates an already parsed config object; `file` anchors relative paths and messages. */
export function parseConfig(
  raw: unknown,
  env: NodeJS.ProcessEnv,
  file?: string,
  overrides: ConfigOverrides = {},
): RouterConfig {
  const result = configSchema.safeParse(withEnv(raw, env));
  if (!result.success) {
    throw new ConfigError(`invalid config\n${z.prettifyError(result.error)}`, file);
  }
  const config = result.data;
  const base = file ? dirname(resolve(file)) : process.cwd();
  if (config.events.schema) config.events.schema = resolve(base, config.events.schema);
  const place = (path: string, from: string): string =>
    isSupergraphUrl(path) ? path : resolve(from, path);
  if (config.supergraph) config.supergraph = place(config.supergraph, base);
  // A supergraph named on the command line needs no subgraphs in the file.
  if (overrides.supergraph) config.supergraph = place(overrides.supergraph, process.cwd());
  for (const subgraph of Object.values(config.subgraphs)) {
    subgraph.schema = resolve(base, subgraph.schema);
  }
  if (!config.supergraph && Object.keys(config.subgraphs).length === 0) {
    throw new ConfigError('name at least one subgraph under `subgraphs`, or a `supergraph`', file);
  }
  return config;
}

/** Whether `supergraph` names a URL to fetch rather than a file. */
export function isSupergraphUrl(supergraph: string): boolean {
  return /^https?:\/\//i.test(supergraph);
}

function withEnv(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const config = structuredClone(raw) as Record<string, Record<string, unknown> | undefined>;
  const section = (name: string): Record<string, unknown> => {
    const value = config[name];
    if (typeof value === 'object' && value !== null) return value;
    return (config[name] = {});
  };
  if (env['HOST']) section('listen')['host'] = env['HOST'];
  if (env['PORT']) section('listen')['port'] = Number(env['PORT']);
  if (env['NATS_URL']) section('nats')['url'] = env['NATS_URL'];
  const subgraphs = config['subgraphs'];
  if (typeof subgraphs === 'object' && subgraphs !== null) {
    for (const [name, subgraph] of Object.entries(subgraphs)) {
      const url = env[`SUBGRAPH_${name.toUpperCase().replace(/-/g, '_')}_URL`];
      if (url && typeof subgraph === 'object' && subgraph !== null) {
        (subgraph as Record<string, unknown>)['url'] = url;
      }
    }
  }
  return config;
}
