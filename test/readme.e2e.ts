/**
 * The README's code blocks, run as a reader would paste them, against the example stack on
 * free ports: `localhost:4000`/`127.0.0.1:4000` (router), `:4003` (scrape-job) and `:4222`
 * (NATS) in a block are rewritten to the stack's ports, and where the README shows what a
 * block prints (the plain or json block right after it), the output must be that.
 *
 * - `sh` blocks run in bash from the repository root with NATS_URL set. The NATS CLI is no
 *   dependency of the workspace, so `nats pub <subject> <payload>` is run by a shell
 *   function that publishes the same arguments with nats.js, whether or not a CLI (and
 *   its own context) is installed.
 * - The `js` block runs with node as `subscribe.mjs`, in a directory whose node_modules is
 *   the repository's: what "save it at the root of this repository" gives.
 * - `graphql` blocks run through the router (subscriptions over graphql-ws, the rest as
 *   GraphQL over HTTP), or, for the events graph excerpt, are compared with the file.
 * - Events a snippet waits for are published by running the README's own `nats pub` block.
 *
 * Every block is run or checked here, or listed in NOT_RUN with the reason; the last test
 * fails for any other, so a new snippet cannot go untested by accident.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  parse,
  print,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type ObjectTypeDefinitionNode,
} from 'graphql';
import type { Client } from 'graphql-ws';
import { routerConfigFile } from '../stack/example-stack.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig, providerConfigs } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import {
  subscribe,
  withoutCursor,
  wsClient,
  type Result,
  type Subscription,
} from './support/graphql.js';
import { codeBlocks, describeBlock, type CodeBlock } from './support/readme.js';
import { spawnWatched, type Watched } from './support/streams.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const execFileAsync = promisify(execFile);
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = codeBlocks(readme);

/**
 * Blocks this test does not run, and why. Each entry must match a block, so a stale
 * entry fails too.
 */
const NOT_RUN: readonly { section: string; lang: string; why: string }[] = [
  {
    section: 'Two commands',
    lang: 'sh',
    why:
      '`pnpm start` serves until Ctrl-C on fixed ports (this test starts the same stack, ' +
      'startExampleStack, on free ones), and `pnpm test` is the suite this test is part of.',
  },
  {
    section: 'Other brokers: Redis and RabbitMQ',
    lang: 'graphql',
    why:
      'Product and Order are not in the example stack; test/providers.e2e.ts binds the ' +
      "example's messageAdded to a Redis and to a RabbitMQ provider the same way.",
  },
  {
    section: 'Other brokers: Redis and RabbitMQ',
    lang: 'sh',
    why:
      'the example stack is NATS-only; test/providers.e2e.ts publishes with the brokers’ own ' +
      'clients and with `pnpm pub --provider` against a real redis-server and rabbitmq-server.',
  },
  {
    section: 'Requests (NATS)',
    lang: 'graphql',
    why:
      'Forecast is not in the example stack, where nobody answers requests; ' +
      'test/publish-request.e2e.ts serves such a field with a responder in the test.',
  },
  {
    section: 'Requests (NATS)',
    lang: 'sh',
    why:
      'the NATS CLI is no dependency of the workspace; test/publish-request.e2e.ts answers ' +
      'the same requests with nats.js, the way `nats reply` does.',
  },
  {
    section: 'Stopping and rolling',
    lang: 'sh',
    why:
      'the parts serve until stopped on fixed ports; test/standalone.e2e.ts runs the same ' +
      'commands (each subgraph main.ts, two `pnpm router` CLIs on one NATS) on free ports.',
  },
  {
    section: 'Command line',
    lang: 'sh',
    why:
      'the first two commands serve until stopped on the configured port; test/cli.e2e.ts ' +
      'runs `compose --out` and `--supergraph` against a real stack.',
  },
  {
    section: 'Composing with your own tooling',
    lang: 'yaml',
    why:
      'rover cannot be installed here; test/composers.e2e.ts composes the same subgraphs ' +
      'with @apollo/composition, the composition rover runs, and serves the result.',
  },
  {
    section: 'Composing with your own tooling',
    lang: 'sh',
    why:
      'rover and the Hive CLI cannot be installed here, nor their registries reached; ' +
      "test/composers.e2e.ts composes with the libraries they run (Apollo's and Hive's).",
  },
];

const used = new Set<CodeBlock>();

/** The `nth` block of `lang` under the heading `section`; this test runs or checks it. */
function block(section: string, lang: string, nth = 0): CodeBlock {
  const found = blocks.filter((b) => b.section === section && b.lang === lang)[nth];
  if (!found) throw new Error(`README.md has no ${lang} block #${nth + 1} under "${section}"`);
  used.add(found);
  return found;
}

/** The block right after `of`, plain or json: what the README says `of` prints. */
function output(of: CodeBlock): CodeBlock {
  const next = blocks[of.index + 1];
  if (!next || (next.lang !== '' && next.lang !== 'json')) {
    throw new Error(`README.md shows no output after the ${describeBlock(of)}`);
  }
  used.add(next);
  return next;
}

const intro = block('EDFS Router', 'sh');
const introShows = output(intro);
const eventsGraph = block('EDFS Router', 'graphql');
const durableGraph = block('Durable subscriptions (JetStream)', 'graphql');
const filtering = {
  graph: block('Filtering events (`@eventsFilter`)', 'graphql', 0),
  subscription: block('Filtering events (`@eventsFilter`)', 'graphql', 1),
  mutations: block('Filtering events (`@eventsFilter`)', 'sh'),
};
const publishGraph = block('Publish and request', 'graphql');
const publishMutation = block('Publish and request', 'sh');
const publishMutationShows = output(publishMutation);
const composedDirective = block('Composing with your own tooling', 'graphql');
const tryIt = {
  subscription: block('Try it', 'graphql'),
  publish: block('Try it', 'sh', 0),
  mutation: block('Try it', 'sh', 1),
};
const mutationShows = output(tryIt.mutation);
const cqrs = block('Commands and their progress (CQRS)', 'graphql');
const cqrsShows = output(cqrs);
const overHttp = {
  validation: block('GraphQL over HTTP', 'sh', 0),
  subscription: block('GraphQL over HTTP', 'sh', 1),
};
const overHttpShows = {
  validation: output(overHttp.validation),
  subscription: output(overHttp.subscription),
};
const graphqlWs = block('graphql-transport-ws and the legacy protocol', 'js');
const graphqlWsShows = output(graphqlWs);
const sse = block('GraphQL over SSE', 'sh');
const sseShows = output(sse);
const multipart = block('Multipart HTTP subscriptions', 'sh');
const multipartShows = output(multipart);
const layout = block('Layout', '');
/** Every YAML block is a piece of router.yaml, but those NOT_RUN lists (other tools' files). */
/** Checked by a test of its own, which makes the files and the variable it names. */
const brokerSecurity = block('Broker credentials and TLS', 'yaml');
const configExcerpts = blocks.filter(
  (b) =>
    b.lang === 'yaml' &&
    b !== brokerSecurity &&
    !NOT_RUN.some((n) => n.section === b.section && n.lang === 'yaml'),
);
for (const excerpt of configExcerpts) used.add(excerpt);
const authentication = {
  curl: block('Authentication', 'sh'),
  viewer: block('Authentication', 'js'),
};
const authorization = block('Authorization', 'sh');
const authorizationShows = output(authorization);
const authenticationShows = {
  curl: output(authentication.curl),
  viewer: output(authentication.viewer),
};
const otherBrokers = block('Other brokers: Redis and RabbitMQ', 'yaml');

/** The selection the README's first example shows, and its protocol examples send. */
const MESSAGE_ADDED = 'subscription { messageAdded(roomID: "123") { id text user { name } } }';

/** Stands in for the NATS CLI's `nats pub`; a shell function wins over a command on PATH. */
const natsStandIn = `nats() {
  if [ "$1" != pub ] || [ $# -ne 3 ]; then echo "nats stand-in: only nats pub <subject> <payload>" >&2; return 2; fi
  node --input-type=module -e "import { connect } from 'nats';
    const nc = await connect({ servers: process.env.NATS_URL });
    nc.publish(process.argv[1], process.argv[2]);
    await nc.drain();" "$2" "$3"
}`;

describe('README.md, run as written', () => {
  let stack: TestStack;
  let client: Client;
  let scratch: string;
  const ports = { router: '', scrapeJob: '', nats: '' };

  beforeAll(async () => {
    stack = await startTestStack();
    client = wsClient(stack.router.url);
    ports.router = new URL(stack.router.url).port;
    ports.scrapeJob = new URL(stack.subgraphs.scrapeJob.url).port;
    ports.nats = new URL(stack.natsUrl).port;
    scratch = mkdtempSync(join(tmpdir(), 'edfs-readme-'));
    symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  });
  afterAll(async () => {
    await client?.dispose();
    await stack?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** The block's text with the README's ports replaced by the test stack's. */
  function onTestStack(text: string): string {
    return text
      .replace(/\b(localhost|127\.0\.0\.1):4000\b/g, `$1:${ports.router}`)
      .replace(/\b(localhost|127\.0\.0\.1):4003\b/g, `$1:${ports.scrapeJob}`)
      .replace(/\b(localhost|127\.0\.0\.1):4222\b/g, `$1:${ports.nats}`);
  }

  /** Starts a shell block in bash; `set -e` so that a failing command fails the block. */
  function startShell(sh: CodeBlock): Watched {
    return spawnWatched('bash', ['-c', `set -e\n${natsStandIn}\n${onTestStack(sh.text)}`], {
      cwd: root,
      env: { ...process.env, NATS_URL: stack.natsUrl },
      detached: true,
    });
  }

  /** Runs a shell block to its end and returns what it printed. */
  async function runShell(sh: CodeBlock): Promise<string> {
    const run = startShell(sh);
    const code = await run.exited;
    expect(code, `${describeBlock(sh)} failed: ${run.stderr}`).toBe(0);
    return run.output;
  }

  /** Waits until `run` has printed as much as `shown`, then compares (CRLF read as LF). */
  async function printsFirst(run: Watched, shown: CodeBlock): Promise<void> {
    // Cursors ("edfs1:…" in base64url) differ from run to run; the README shows one.
    const normal = (text: string): string =>
      text.replace(/\r\n/g, '\n').replace(/ZWRmczE6[\w-]*/g, '<cursor>');
    const expected = normal(shown.text);
    await run.until(`the output of the ${describeBlock(shown)}`, (out) => {
      return normal(out).length >= expected.length;
    });
    expect(normal(run.output).slice(0, expected.length)).toBe(expected);
  }

  /**
   * Resolves once nobody is subscribed to room 123, in the router and in NATS, so that the
   * next test's wait for a subscription on it cannot be answered by this one's.
   */
  async function released(): Promise<void> {
    await stack.subscriptionsOpen(0);
    await stack.subscribedOn('room.123.messages', 0);
  }

  /** Resolves as `ready` does, but fails at once, with what it printed, if `run` exits first. */
  async function whileRunning(run: Watched, what: string, ready: Promise<void>): Promise<void> {
    let settled = false;
    const exited = run.exited.then((code) => {
      if (!settled) throw new Error(`exited (${code}) before ${what}:\n${run.stderr}${run.output}`);
    });
    try {
      await Promise.race([ready, exited]);
    } finally {
      settled = true;
      // Whichever lost the race may still fail; it has been answered for.
      ready.catch(() => undefined);
      exited.catch(() => undefined);
    }
  }

  /** A streaming snippet: once its subscription is in place, the README's event, then its output. */
  async function streamsAsShown(run: Watched, shown: CodeBlock): Promise<void> {
    try {
      await whileRunning(run, 'subscribing', stack.subscriptionsOpen(1));
      await stack.subscribedOn('room.123.messages');
      await runShell(intro);
      await printsFirst(run, shown);
    } finally {
      await run.kill();
      await released();
    }
  }

  it.each([
    ['the introduction', eventsGraph],
    ['Durable subscriptions', durableGraph],
    ['Filtering events', filtering.graph],
    ['Publish and request', publishGraph],
  ])('quotes schemas/events.graphql as it is in %s', (_, quote) => {
    const file = parse(readFileSync(join(root, 'schemas/events.graphql'), 'utf8'));
    const excerpt = parse(quote.text);
    const typeIn = (doc: DocumentNode, name: string): ObjectTypeDefinitionNode | undefined =>
      doc.definitions.find(
        (d: DefinitionNode): d is ObjectTypeDefinitionNode =>
          d.kind === 'ObjectTypeDefinition' && d.name.value === name,
      );
    for (const type of excerpt.definitions) {
      if (type.kind !== 'ObjectTypeDefinition') throw new Error(`unexpected ${type.kind}`);
      const inFile = typeIn(file, type.name.value);
      expect(inFile, `type ${type.name.value}`).toBeDefined();
      expect(inFile!.directives?.map(print)).toEqual(type.directives?.map(print));
      for (const field of type.fields ?? []) {
        const same = inFile!.fields?.find((f) => f.name.value === field.name.value);
        expect(same && print(same), `${type.name.value}.${field.name.value}`).toBe(print(field));
      }
    }
  });

  it('quotes the head of schemas/events.graphql as it is in Composing with your own tooling', () => {
    // Compared without descriptions, which the README leaves out.
    const bare = (doc: DocumentNode): string[] =>
      visit(doc, {
        enter: (node) => ('description' in node ? { ...node, description: undefined } : undefined),
      }).definitions.map(print);
    const file = bare(parse(readFileSync(join(root, 'schemas/events.graphql'), 'utf8')));
    const excerpt = bare(parse(composedDirective.text));
    expect(excerpt).toHaveLength(6);
    expect(file.slice(0, 6)).toEqual(excerpt);
  });

  it('the first example: a published key comes back joined from the subgraphs', async () => {
    const sub = subscribe(client, MESSAGE_ADDED);
    try {
      await stack.subscribedOn('room.123.messages');
      await runShell(intro);
      // The README shows one cursor; each run has its own.
      const shown = withoutCursor(JSON.parse(introShows.text) as Result);
      expect(await sub.next()).toEqual(shown.result);
      expect(shown.cursor).toBeDefined();
      expect(sub.cursor).toBeDefined();
    } finally {
      await sub.unsubscribe();
      await released();
    }
  });

  describe('Try it', () => {
    interface MessageAdded {
      messageAdded: { id: string; text: string; createdAt: string; user: { name: string } };
    }
    let sub: Subscription<MessageAdded>;
    beforeAll(async () => {
      sub = subscribe<MessageAdded>(client, tryIt.subscription.text);
      await stack.subscribedOn('room.123.messages');
    });
    afterAll(async () => {
      await sub?.unsubscribe();
      await released();
    });

    it('delivers what `nats pub` and `pnpm pub` publish to the subscription shown', async () => {
      await runShell(tryIt.publish);
      const results: Result<MessageAdded>[] = [await sub.next(), await sub.next()];
      expect(results.map((r) => r.errors)).toEqual([undefined, undefined]);
      expect(results.map((r) => r.data!.messageAdded)).toEqual([
        expect.objectContaining({ id: '1', text: 'Hello, Bob!', user: expect.anything() }),
        expect.objectContaining({ id: '2', text: 'Hi Alice!', user: expect.anything() }),
      ]);
    });

    it('runs the addMessage mutation, which prints what the README shows and publishes its key', async () => {
      expect((await runShell(tryIt.mutation)).trimEnd()).toBe(mutationShows.text.trimEnd());
      const { id } = (JSON.parse(mutationShows.text) as { data: { addMessage: { id: string } } })
        .data.addMessage;
      expect((await sub.next()).data?.messageAdded).toMatchObject({
        id,
        text: 'Curiouser and curiouser',
        user: { name: 'Alice' },
      });
    });
  });

  it('Publish and request: the mutation prints success and its event reaches the subscription', async () => {
    const sub = subscribe<{ messageAdded: { id: string; text: string } }>(client, MESSAGE_ADDED);
    try {
      await stack.subscribedOn('room.123.messages');
      expect((await runShell(publishMutation)).trimEnd()).toBe(publishMutationShows.text.trimEnd());
      expect((await sub.next()).data?.messageAdded).toMatchObject({ id: '1', text: 'Hello, Bob!' });
    } finally {
      await sub.unsubscribe();
      await released();
    }
  });

  it('CQRS: StartScrape, FollowScrape shows the progress rise to COMPLETE, then ScrapeJob', async () => {
    interface JobState {
      scrapeJobState: { status: string; progress: number | null; error: string | null };
    }
    // The README's page takes 30 s so a reader has time to paste the ID; 2 s are enough here.
    expect(cqrs.text).toContain('seconds=30');
    const document = onTestStack(cqrs.text).replace('seconds=30', 'seconds=2');
    const http = async (operationName: string, variables: Record<string, unknown> = {}) => {
      const response = await fetch(stack.router.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
        },
        body: JSON.stringify({ query: document, operationName, variables }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as Result;
    };

    const started = await http('StartScrape');
    expect(started.errors).toBeUndefined();
    const id = started.data!['scrapeWebsite'];
    expect(id).toEqual(expect.any(String));

    const follow = client.iterate<JobState>({
      query: document,
      operationName: 'FollowScrape',
      variables: { id },
    });
    const seen: JobState['scrapeJobState'][] = [];
    try {
      const next = follow.next();
      await stack.subscribedOn(`scrapeJob.${id}.state`);
      // "The state so far; scrapeResult is null until the job is COMPLETE."
      const soFar = await http('ScrapeJob', { id });
      expect(soFar.data?.['scrapeJob']).toMatchObject({
        status: expect.stringMatching(/^(PENDING|IN_PROGRESS)$/),
      });
      expect(soFar.data?.['scrapeResult']).toBeNull();
      for (let result = await next; !result.done; result = await follow.next()) {
        expect(result.value.errors).toBeUndefined();
        seen.push(result.value.data!.scrapeJobState);
        if (!['PENDING', 'IN_PROGRESS'].includes(seen.at(-1)!.status)) break;
      }
    } finally {
      await follow.return?.();
    }

    expect(seen.at(-1)).toEqual({ status: 'COMPLETE', progress: 1, error: null });
    const progress = seen.slice(0, -1).map((s) => s.progress ?? 0);
    expect(seen.slice(0, -1).every((s) => s.status === 'IN_PROGRESS')).toBe(true);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(progress).size, `progress seen: ${progress.join(', ')}`).toBeGreaterThan(1);

    expect(await http('ScrapeJob', { id })).toEqual(JSON.parse(cqrsShows.text));
  });

  it('GraphQL over HTTP: a validation error is 200 with application/json, 400 with graphql-response+json', async () => {
    const printed = await runShell(overHttp.validation);
    expect(printed.trimEnd()).toBe(overHttpShows.validation.text.trimEnd());
  });

  it('GraphQL over HTTP: a subscription is refused, saying which protocols carry it', async () => {
    await stack.subscriptionsOpen(0); // the CQRS test's subscription is gone
    const printed = await runShell(overHttp.subscription);
    expect(printed.trimEnd()).toBe(overHttpShows.subscription.text.trimEnd());
    expect(stack.router.subscriptions).toBe(0);
  });

  it('graphql-ws: the client snippet runs on this Node and prints each event as shown', async () => {
    const file = join(scratch, 'subscribe.mjs');
    writeFileSync(file, onTestStack(graphqlWs.text));
    await streamsAsShown(spawnWatched(process.execPath, [file], { cwd: scratch }), graphqlWsShows);
  });

  it('Authentication: curl with a token from pnpm token, and a bad one, prints as shown', async () => {
    const printed = await runShell(authentication.curl);
    expect(printed.trimEnd()).toBe(authenticationShows.curl.text.trimEnd());
  });

  it('Authorization: email is null without the scope and answered with it, as shown', async () => {
    const printed = await runShell(authorization);
    expect(printed.trimEnd()).toBe(authorizationShows.text.trimEnd());
  });

  it("Authentication: the connectionParams snippet gets its own user's event as shown", async () => {
    const { stdout: token } = await execFileAsync('pnpm', ['-s', 'token', '--sub', '1'], {
      cwd: root,
    });
    const file = join(scratch, 'viewer.mjs');
    writeFileSync(file, onTestStack(authentication.viewer.text));
    const run = spawnWatched(process.execPath, [file], {
      cwd: scratch,
      env: { ...process.env, TOKEN: token.trim() },
    });
    try {
      await whileRunning(run, 'subscribing', stack.subscriptionsOpen(1));
      await stack.subscribedOn('user.1.updated');
      // The event the README's sentence publishes.
      stack.publish('user.1.updated', { __typename: 'User', id: '1' });
      await printsFirst(run, authenticationShows.viewer);
    } finally {
      await run.kill();
      await stack.subscriptionsOpen(0);
    }
  });

  it('SSE: curl prints the heartbeat and the event as shown', async () => {
    await streamsAsShown(startShell(sse), sseShows);
  });

  it('multipart: curl prints the heartbeat part and the event part as shown', async () => {
    await streamsAsShown(startShell(multipart), multipartShows);
  });

  it.each(configExcerpts.map((b) => [describeBlock(b), b] as const))(
    'the %s is valid in router.yaml',
    (_, excerpt) => {
      const example = parseYaml(readFileSync(routerConfigFile, 'utf8')) as Record<string, unknown>;
      const config = { ...example, ...(parseYaml(excerpt.text) as Record<string, unknown>) };
      expect(() => parseConfig(config, {}, routerConfigFile)).not.toThrow();
    },
  );

  it('CORS and production switches: the config snippets are valid and say what they set', () => {
    const read = (section: string) =>
      parseConfig(
        { ...(parseYaml(block(section, 'yaml').text) as object), supergraph: 'supergraph.graphql' },
        {},
      );
    expect(read('Browsers on other origins (CORS)').cors).toEqual({
      origins: ['https://app.example.com', 'http://localhost:5173'],
      methods: ['GET', 'POST'],
      headers: ['content-type', 'accept', 'authorization', 'last-event-id'],
      credentials: false,
      maxAgeSeconds: 600,
    });
    const production = read('Before you expose it');
    expect(production).toMatchObject({
      introspection: false,
      graphiql: false,
      maskSubgraphErrors: true,
      metrics: { enabled: false },
    });
  });

  it('Other brokers: the providers block is a config the router takes', () => {
    const raw = parseYaml(otherBrokers.text) as Record<string, unknown>;
    const config = parseConfig({ ...raw, supergraph: 'supergraph.graphql' }, {});
    expect(Object.fromEntries(providerConfigs(config))).toEqual({
      cache: { kind: 'redis', url: 'redis://127.0.0.1:6379' },
      rabbit: { kind: 'amqp', url: 'amqp://guest:guest@127.0.0.1:5672', exchange: 'edfs' },
      default: { kind: 'nats', url: 'nats://127.0.0.1:4222', streams: [], pingIntervalMs: 10_000 },
    });
  });

  it('Broker credentials and TLS: the block is a config the router takes, its secrets read', () => {
    const dir = mkdtempSync(join(scratch, 'security-'));
    const at = (path: string) => join(dir, path);
    for (const folder of ['secrets', 'certs']) mkdirSync(at(folder));
    for (const path of ['secrets/router.creds', 'certs/ca.pem', 'certs/router.pem']) {
      writeFileSync(at(path), 'PEM');
    }
    writeFileSync(at('certs/router-key.pem'), 'PEM');
    writeFileSync(at('secrets/rabbitmq-password'), 'rabbit-pw\n');
    const file = at('router.yaml');
    const raw = { ...(parseYaml(brokerSecurity.text) as object), supergraph: 'supergraph.graphql' };
    const config = parseConfig(raw, { REDIS_PASSWORD: 'redis-pw' }, file);
    expect(Object.fromEntries(providerConfigs(config))).toEqual({
      default: {
        kind: 'nats',
        url: 'nats://nats.internal:4222',
        streams: [],
        pingIntervalMs: 10_000,
        credentials: at('secrets/router.creds'),
        tls: { ca: at('certs/ca.pem') },
      },
      cache: {
        kind: 'redis',
        url: 'redis://redis.internal:6380',
        username: 'router',
        password: 'redis-pw',
        tls: {
          ca: at('certs/ca.pem'),
          cert: at('certs/router.pem'),
          key: at('certs/router-key.pem'),
        },
      },
      rabbit: {
        kind: 'amqp',
        url: 'amqp://rabbitmq.internal:5671',
        username: 'router',
        password: 'rabbit-pw',
        exchange: 'edfs',
        tls: { ca: at('certs/ca.pem') },
      },
    });
    // The line the README shows when the variable is not set.
    expect(() => parseConfig(raw, {}, file)).toThrow(
      `${file}: providers.cache.password: environment variable REDIS_PASSWORD is not set`,
    );
  });

  it('Layout: every file and folder it lists exists', () => {
    let folder = '';
    const listed = layout.text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const name = line.trim().split(/\s+/)[0]!;
        if (!line.startsWith(' ')) folder = name.endsWith('/') ? name : '';
        return line.startsWith(' ') ? folder + name : name;
      });
    expect(listed.filter((path) => !existsSync(join(root, path)))).toEqual([]);
    expect(listed.length).toBeGreaterThan(10);
  });

  // Last of those that add messages: the Try it mutation prints the id the store gives next.
  it('Filtering events: of the two messages added, the subscriber gets only the one shown', async () => {
    const sub = subscribe(client, filtering.subscription.text);
    try {
      await stack.subscribedOn('room.123.messages');
      // The README shows the one result in its prose, between the two blocks.
      const shown = /`(\{"data":\{"messageAddedBy":.*?)`/.exec(readme)![1]!;
      await runShell(filtering.mutations);
      expect(await sub.next()).toEqual(JSON.parse(shown));
    } finally {
      await sub.unsubscribe();
      await released();
    }
  });

  it('runs or checks every code block, except those NOT_RUN lists with a reason', () => {
    const notRun = NOT_RUN.map(({ section, lang }) => {
      const listed = blocks.filter((b) => b.section === section && b.lang === lang);
      expect(listed, `NOT_RUN lists a ${lang} block under "${section}"`).toHaveLength(1);
      return listed[0]!;
    });
    const neither = blocks.filter((b) => !used.has(b) && !notRun.includes(b));
    expect(neither.map(describeBlock)).toEqual([]);
  });
});
