import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { pino, type Logger } from 'pino';
import { createRouter, parseConfig, type Router } from '@edfs/router';
import { startNatsServer, type NatsServer } from '../../../stack/nats-server.js';

/** A GraphQL endpoint started by a test, and how to stop it. */
export interface Endpoint {
  readonly url: string;
  close(): Promise<void>;
}

/** Apollo Gateway in Apollo Server, on a free port, serving `supergraphSdl`. */
export async function startApolloGateway(supergraphSdl: string): Promise<Endpoint> {
  const server = new ApolloServer({
    gateway: new ApolloGateway({ supergraphSdl }),
    // Stack traces are for development; the comparison is about what a client is told.
    includeStacktraceInErrorResponses: false,
  });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url, close: () => server.stop() };
}

/** Our router on `supergraphSdl`, written to a file as `--supergraph` takes it, over its own NATS. */
export async function startRouterOn(
  supergraphSdl: string,
  logger: Logger = pino({ level: 'silent' }),
): Promise<Endpoint & { router: Router }> {
  const dir = mkdtempSync(join(tmpdir(), 'edfs-parity-'));
  let nats: NatsServer | undefined;
  try {
    const supergraph = join(dir, 'supergraph.graphql');
    writeFileSync(supergraph, supergraphSdl);
    nats = await startNatsServer();
    const config = parseConfig({ listen: { port: 0 }, nats: { url: nats.url }, supergraph }, {});
    const router = await createRouter({ config, logger });
    const stopNats = nats;
    return {
      url: router.url,
      router,
      async close() {
        await router.close();
        await stopNats.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
