import { pino } from 'pino';
import { connectNatsPublisher, type RunningSubgraph } from '@edfs/subgraph-shared';
import { createMessageSubgraph } from '@edfs/subgraph-message';
import { createUserSubgraph } from '@edfs/subgraph-user';
import { createScrapeJobSubgraph } from '@edfs/subgraph-scrape-job';
import { startNatsServer, type NatsServer } from '../stack/nats-server.js';
import { childPids } from './proc-stats.js';
import { killPidOnExit } from './targets/child.js';
import { countHttpRequests, type RequestCounter } from './request-counter.js';

export interface BackendOptions {
  /** Messages to create before the run, so that every measured event has its own id. */
  seedMessages: number;
}

/** What every target shares: one nats-server and the three example subgraphs. */
export interface Backend {
  readonly nats: NatsServer;
  /** Subgraph endpoints by the names used in router.yaml. */
  readonly subgraphUrls: Readonly<Record<'message' | 'user' | 'scrape-job', string>>;
  /** HTTP requests that reached any of the subgraphs. */
  readonly requests: RequestCounter;
  /** Ids of messages created for the run (authors alternate between Alice and Bob). */
  readonly messageIds: readonly string[];
  close(): Promise<void>;
}

/** The room the seed messages are written to; no scenario subscribes to it. */
const seedRoom = 'bench-seed';
const seedBatch = 250;

/**
 * Starts nats-server and, in this process, the message, user and scrape-job subgraphs,
 * counting the HTTP requests that reach them; then creates the seed messages.
 */
export async function startBackend(options: BackendOptions): Promise<Backend> {
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => undefined);
  };
  try {
    const logger = pino({ level: 'warn' });
    const nats = await startNatsServer();
    closers.push(() => nats.stop());
    for (const pid of childPids('nats-server')) killPidOnExit(pid);
    const publisher = await connectNatsPublisher(nats.url, { logger, name: 'bench-subgraphs' });
    closers.push(() => publisher.close());
    const started: RunningSubgraph[] = [];
    const start = async (subgraph: Promise<RunningSubgraph>): Promise<RunningSubgraph> => {
      const running = await subgraph;
      closers.push(() => running.close());
      started.push(running);
      return running;
    };
    const message = await start(createMessageSubgraph({ publisher, logger }));
    const user = await start(createUserSubgraph({ logger }));
    const scrapeJob = await start(createScrapeJobSubgraph({ publisher, logger }));
    const requests = countHttpRequests(started.map((s) => s.port));
    closers.push(async () => requests.close());

    const messageIds = await seedMessages(message.url, options.seedMessages);
    requests.reset();
    return {
      nats,
      subgraphUrls: { message: message.url, user: user.url, 'scrape-job': scrapeJob.url },
      requests,
      messageIds,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Creates `count` messages with `addMessage`, many per request through aliases. */
async function seedMessages(url: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; offset < count; offset += seedBatch) {
    const size = Math.min(seedBatch, count - offset);
    const fields = Array.from({ length: size }, (_, i) => {
      const n = offset + i;
      return `m${i}: addMessage(roomID: "${seedRoom}", text: "bench message ${n}", userID: "${(n % 2) + 1}") { id }`;
    });
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `mutation { ${fields.join(' ')} }` }),
    });
    const body = (await response.json()) as { data?: Record<string, { id: string }> };
    if (!body.data) throw new Error(`seeding messages failed: ${JSON.stringify(body)}`);
    for (let i = 0; i < size; i++) ids.push(body.data[`m${i}`]!.id);
  }
  return ids;
}
