import { pino, type Logger } from 'pino';
import { createRouter, loadConfig, type Router, type RouterConfig } from '@edfs/router';
import { connectNatsPublisher, type RunningSubgraph } from '@edfs/subgraph-shared';
import { createMessageSubgraph } from '@edfs/subgraph-message';
import { createUserSubgraph } from '@edfs/subgraph-user';
import {
  allowPrivateAddresses,
  createScrapeJobSubgraph,
  type ScrapeJobSubgraph,
} from '@edfs/subgraph-scrape-job';
import { ensureDevKey } from './dev-key.js';
import { startNatsServer, type NatsServer } from './nats-server.js';
import { routerConfigFile } from './router-config-file.js';

export { routerConfigFile };

/** The example stack's config file, `router.yaml` at the repository root. */

export interface ExampleStackOptions {
  /** Use this NATS server instead of spawning one. @default spawn nats-server */
  natsUrl?: string | undefined;
  /** Ports; 0 picks a free one. @default all 0, NATS on a free port */
  ports?: Partial<
    Record<'router' | 'message' | 'user' | 'scrapeJob' | 'nats' | 'natsMonitor', number>
  >;
  /**
   * Environment that overrides router.yaml (HOST, PORT, NATS_URL…); `SCRAPE_ALLOW_PRIVATE=1`
   * lets the scrape-job subgraph fetch private addresses, its own demo page included.
   * @default {}
   */
  env?: NodeJS.ProcessEnv;
  /** @default a silent logger */
  logger?: Logger;
  /** The scrape worker's deadline per page. @default the subgraph's, 90 s */
  scrapeTimeoutMs?: number;
  /** Changes the router's config (read from router.yaml) before the router starts. */
  configure?: (config: RouterConfig) => void;
  /**
   * Spawn nats-server in a process group of its own (see `NatsServerOptions.detached`), so
   * that a Ctrl-C stops it only after the router and the subgraphs have let go of it.
   * @default false
   */
  detachNats?: boolean;
}

export interface ExampleStack {
  readonly nats: NatsServer | undefined;
  readonly natsUrl: string;
  readonly router: Router;
  /** The router's config with the subgraphs' actual URLs, to start more routers from. */
  readonly routerConfig: RouterConfig;
  readonly subgraphs: {
    message: RunningSubgraph;
    user: RunningSubgraph;
    scrapeJob: ScrapeJobSubgraph;
  };
  close(): Promise<void>;
}

/** NATS (unless given), the three subgraphs and the router, wired as in router.yaml. */
export async function startExampleStack(options: ExampleStackOptions = {}): Promise<ExampleStack> {
  const ports = options.ports ?? {};
  const logger = options.logger ?? pino({ level: 'silent' });
  const closers: (() => Promise<void>)[] = [];
  // Every closer runs even when one fails: NATS, last, must not outlive a failed subgraph.
  const close = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const closer of closers.splice(0).reverse()) await closer().catch((e) => errors.push(e));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1)
      throw new AggregateError(errors, 'the example stack did not stop cleanly');
  };
  try {
    const nats = options.natsUrl
      ? undefined
      : await startNatsServer({
          port: ports.nats ?? -1,
          monitorPort: ports.natsMonitor ?? -1,
          detached: options.detachNats ?? false,
        });
    if (nats) closers.push(() => nats.stop());
    const natsUrl = options.natsUrl ?? nats!.url;
    const publisher = await connectNatsPublisher(natsUrl, {
      logger: logger.child({ name: 'publisher' }),
    });
    closers.push(() => publisher.close());

    const message = await createMessageSubgraph({
      publisher,
      port: ports.message ?? 0,
      logger: logger.child({ subgraph: 'message' }),
    });
    closers.push(() => message.close());
    const user = await createUserSubgraph({
      port: ports.user ?? 0,
      logger: logger.child({ subgraph: 'user' }),
    });
    closers.push(() => user.close());
    const scrapeJob = await createScrapeJobSubgraph({
      publisher,
      port: ports.scrapeJob ?? 0,
      fetchTimeoutMs: options.scrapeTimeoutMs,
      allowPrivateAddresses: allowPrivateAddresses(options.env ?? {}),
      logger: logger.child({ subgraph: 'scrape-job' }),
    });
    closers.push(() => scrapeJob.close());

    await ensureDevKey(); // router.yaml reads its JWKS
    const routerConfig = loadConfig(routerConfigFile, options.env ?? {});
    routerConfig.nats.url = natsUrl;
    routerConfig.listen.port = ports.router ?? 0;
    routerConfig.subgraphs['message']!.url = message.url;
    routerConfig.subgraphs['user']!.url = user.url;
    routerConfig.subgraphs['scrape-job']!.url = scrapeJob.url;
    options.configure?.(routerConfig);
    const router = await createRouter({
      config: routerConfig,
      logger: logger.child({ name: 'router' }),
    });
    closers.push(() => router.close());

    return { nats, natsUrl, router, routerConfig, subgraphs: { message, user, scrapeJob }, close };
  } catch (error) {
    await close().catch((closeError: unknown) =>
      logger.error({ err: closeError }, 'could not stop what had started'),
    );
    throw error;
  }
}
