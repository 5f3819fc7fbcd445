/**
 * The config file's schema: every option, its default (one that works for the example
 * stack) and its limits, as zod validates them. config.ts reads the file against it.
 */
import { z } from 'zod';
import { UNFORWARDABLE_HEADERS } from './auth/forwarded-headers.js';
import { natsSchema, providerSchema } from './providers/config.js';

const subgraphSchema = z.strictObject({
  /** Path of the subgraph's SDL, relative to the config file. */
  schema: z.string().min(1),
  /** Where the router sends the subgraph's fetches. */
  url: z.url({ protocol: /^https?$/ }),
});

const metricsSchema = z.strictObject({
  /** Serve Prometheus metrics at `path`; off, that path answers 404. @default true */
  enabled: z.boolean().default(true),
  /** Where the metrics are served, on the router's port. @default "/metrics" */
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~/-]*$/, 'a path: / then letters, digits, . _ ~ / -')
    .refine(
      (path) => !['/graphql', '/health', '/ready'].includes(path) && !path.startsWith('/graphiql'),
      'taken by /graphql, /health, /ready or GraphiQL',
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

const jwksSchema = z.union([
  z.strictObject({
    /** Where the key set is fetched from (e.g. an issuer's `/.well-known/jwks.json`). */
    url: z.url({ protocol: /^https?$/ }),
    /** How long a fetched key set is used before it is fetched again. @default 600000 */
    refreshMs: z.number().int().positive().default(600_000),
    /**
     * How long after a fetch a token with an unknown `kid` may not cause another one (a key
     * rotation is picked up by the first token signed with the new key after it). @default 30000
     */
    cooldownMs: z.number().int().min(0).default(30_000),
    /** How long one fetch may take. @default 5000 */
    timeoutMs: z.number().int().positive().default(5_000),
  }),
  z.strictObject({
    /** Path of a JWKS JSON file (`{"keys": [...]}`), relative to the config file; read at start-up. */
    file: z.string().min(1),
  }),
]);

const authenticationSchema = z.strictObject({
  /**
   * Verify JSON Web Tokens. A token is read from `header` ("Bearer <token>") on HTTP, SSE
   * and multipart, and from the same key of the `connection_init` payload (any case) on
   * WebSockets, falling back to the upgrade request's header. Without it every caller is
   * anonymous.
   */
  jwt: z
    .strictObject({
      /** Key sets that may have signed a token; the token's `kid` picks the key. */
      jwks: z.array(jwksSchema).min(1),
      /** The `iss` a token must carry; unchecked when absent. */
      issuer: z.string().min(1).optional(),
      /** An `aud` a token must carry; unchecked when absent. */
      audience: z.string().min(1).optional(),
      /** The header (and `connection_init` key) that carries "Bearer <token>". @default "Authorization" */
      header: z
        .string()
        .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'an HTTP header name')
        .default('Authorization'),
      /** Signature algorithms accepted (e.g. ["RS256", "ES256"]); `none` never is. @default any the key allows */
      algorithms: z
        .array(z.string().regex(/^(?!none$)[A-Za-z0-9+-]+$/i, 'an algorithm name other than none'))
        .min(1)
        .optional(),
    })
    .optional(),
  /** Refuse requests without a valid token (HTTP 401, WebSocket close 4401). @default false */
  required: z.boolean().default(false),
});

/** An origin as browsers send it: scheme, host and port, no path. */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

const corsSchema = z
  .strictObject({
    /**
     * Origins whose pages may call the router, exactly (`https://app.example.com`), or
     * `"*"` for any. The router's own origin needs none. @default []
     */
    origins: z
      .array(z.union([z.literal('*'), z.string().regex(ORIGIN, 'an origin: https://host[:port]')]))
      .default([]),
    /** Methods cross-origin requests may use. @default ["GET", "POST"] */
    methods: z
      .array(z.enum(['GET', 'POST']))
      .min(1)
      .default(['GET', 'POST']),
    /**
     * Request headers cross-origin requests may send.
     * @default ["content-type", "accept", "authorization", "last-event-id"]
     */
    headers: z
      .array(z.string().regex(HEADER_NAME, 'an HTTP header name'))
      .default(['content-type', 'accept', 'authorization', 'last-event-id']),
    /** Let browsers send cookies and HTTP authentication along. @default false */
    credentials: z.boolean().default(false),
    /** How long browsers may keep a preflight's answer, in seconds. @default 600 */
    maxAgeSeconds: z.number().int().min(0).max(86_400).default(600),
  })
  .refine((cors) => !(cors.credentials && cors.origins.includes('*')), {
    message: 'browsers refuse credentials with origin "*": list the origins',
  });

const ratio = z.number().min(0).max(1);

const tracingSchema = z.strictObject({
  /** Send OpenTelemetry spans to `endpoint`. @default false */
  enabled: z.boolean().default(false),
  /**
   * The OTLP/HTTP traces endpoint (JSON encoded). Env: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
   * or `OTEL_EXPORTER_OTLP_ENDPOINT` plus `/v1/traces`.
   * @default "http://127.0.0.1:4318/v1/traces"
   */
  endpoint: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:4318/v1/traces'),
  /** The spans' `service.name`. Env: `OTEL_SERVICE_NAME`. @default "edfs-router" */
  serviceName: z.string().min(1).default('edfs-router'),
  /**
   * Share of queries and mutations traced, when the client's `traceparent` does not
   * decide (its sampled flag is followed). @default 1
   */
  sampleRatio: ratio.default(1),
  /**
   * Share of event resolutions traced (one per fan-out group per event), so that events at
   * full rate do not cost a span each. @default 0.01
   */
  eventSampleRatio: ratio.default(0.01),
});

export const configSchema = z.strictObject({
  listen: z
    .strictObject({
      /** Interface to listen on. Env: `HOST`. @default "127.0.0.1" */
      host: z.string().min(1).default('127.0.0.1'),
      /** Port for `/graphql` and `/health`; 0 picks a free one. Env: `PORT`. @default 4000 */
      port: z.number().int().min(0).max(65535).default(4000),
    })
    .prefault({}),
  /** The NATS provider `default`: shorthand for `providers.default: { kind: nats, … }`. */
  nats: natsSchema.prefault({}),
  /**
   * Brokers by id; `@eventsSubscribe(providerId:)` names one, `default` when it does not.
   * Without a `default` here, `nats` is it. @default {}
   */
  providers: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/), providerSchema).default({}),
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
      /**
       * How long an `@eventsRequest` query waits for its reply before it answers
       * EVENT_REQUEST_TIMEOUT. Env: `EVENTS_REQUEST_TIMEOUT_MS`. @default 5000
       */
      requestTimeoutMs: z.number().int().positive().default(5000),
      /**
       * How long an `@eventsPublish` mutation waits for the broker to take its event before
       * it answers `success: false` (EVENT_PUBLISH_FAILED). Env: `EVENTS_PUBLISH_TIMEOUT_MS`.
       * @default 5000
       */
      publishTimeoutMs: z.number().int().positive().default(5000),
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
   * Identical subgraph queries in flight at once (same subgraph, headers, query and
   * variables) share one request and its answer; mutations never do. @default true
   */
  dedupeSubgraphQueries: z.boolean().default(true),
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
   * clients resuming beyond it wait their turn. Clients of one fan-out group resuming from
   * the same position while theirs waits share it. @default 64
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
      /**
       * Open WebSocket connections plus open SSE and multipart streams on this router; one
       * more WebSocket is closed with 1013, one more stream gets 503. @default 20000
       */
      maxConnections: z.number().int().positive().default(20_000),
      /**
       * Open subscriptions on this router across every transport; one more is refused with
       * TOO_MANY_SUBSCRIPTIONS and nothing is subscribed. @default 50000
       */
      maxSubscriptions: z.number().int().positive().default(50_000),
      /**
       * What one subscription may hold, in bytes: its document, variables and extensions as
       * sent. A subscription lives as long as its client, so it gets less room than a
       * request (`maxPayloadBytes`); one over it is refused with
       * MAX_SUBSCRIPTION_BYTES_EXCEEDED. @default 16384
       */
      maxSubscriptionBytes: z.number().int().positive().default(16_384),
    })
    .prefault({}),
  /** Which browser pages on other origins may call `/graphql`, and open WebSockets to it. */
  cors: corsSchema.prefault({}),
  /**
   * Answer introspection (`__schema`, `__type`; `__typename` always works). GraphiQL needs
   * it. @default true
   */
  introspection: z.boolean().default(true),
  /**
   * Replace the messages of errors that subgraphs return with "Unexpected error." and
   * INTERNAL_SERVER_ERROR (the originals are logged); the router's own errors stay. @default false
   */
  maskSubgraphErrors: z.boolean().default(false),
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
  /** Who a caller is: JSON Web Tokens. @default { required: false }: everyone is anonymous */
  authentication: authenticationSchema.prefault({}),
  /** Serve GraphiQL to browsers at `GET /graphql`. @default true */
  graphiql: z.boolean().default(true),
  /** Prometheus metrics (`GET /metrics`). @default { enabled: true, path: "/metrics" } */
  metrics: metricsSchema.prefault({}),
  /** OpenTelemetry tracing over OTLP/HTTP. @default { enabled: false } */
  tracing: tracingSchema.prefault({}),
  /**
   * How long a WebSocket client has to send its connection_init message (both protocols).
   * @default 3000
   */
  connectionInitTimeoutMs: z.number().int().positive().default(3_000),
});

export type RouterConfig = z.output<typeof configSchema>;
export type SubgraphConfig = z.output<typeof subgraphSchema>;
export type AuthenticationConfig = z.output<typeof authenticationSchema>;
export type JwksConfig = z.output<typeof jwksSchema>;
