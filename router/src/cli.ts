import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { createRouter } from './router.js';
import { composeSupergraph, configSources } from './schema/compose.js';

const usage = `Usage: edfs-router [--config router.yaml] [--supergraph supergraph.graphql]
       edfs-router compose [--config router.yaml] [--out supergraph.graphql]

  --config       YAML config (default: router.yaml); HOST, PORT, NATS_URL and
                 SUBGRAPH_<NAME>_URL override it
  --supergraph   serve this Federation 2 supergraph SDL instead of composing the
                 config's subgraphs; the event bindings are read from it
  compose        print (or --out write) the supergraph composed from the config

  SIGHUP reloads the supergraph (file, URL or composition); SIGINT/SIGTERM stop.`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: 'string', default: 'router.yaml' },
      supergraph: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(usage);
  const config = loadConfig(values.config, process.env, { supergraph: values.supergraph });

  if (positionals[0] === 'compose') {
    const sources = configSources(config);
    const sdl = composeSupergraph(sources);
    if (!values.out) return void process.stdout.write(sdl);
    writeFileSync(values.out, sdl);
    // On stderr: stdout carries nothing but SDL, so a redirect never captures this line.
    console.error(
      `edfs-router: wrote the supergraph of ${sources.length} subgraphs to ${values.out}`,
    );
    return;
  }
  if (positionals.length > 0) throw new Error(`unknown command "${positionals[0]}"\n${usage}`);
  // createRouter reads the file too, but its error cannot name the file.

  const logger = createLogger();
  // A SIGHUP while starting (a config reloader on a pod not yet ready) would end the process
  // by Node's default: it is kept, and reloads once the router is up, as the file may have
  // changed after it was read.
  let hupWhileStarting = false;
  const starting = (): void => void (hupWhileStarting = true);
  process.on('SIGHUP', starting);
  const router = await createRouter({ config, logger });
  process.off('SIGHUP', starting);
  // SIGHUP reloads the supergraph; the router logs what the reload did (or why it refused).
  const reload = (): void => {
    void router.reload().then((report) => {
      if (!report.reloaded && !report.error) logger.info(report, 'SIGHUP: supergraph unchanged');
    });
  };
  // The process ends by itself once everything is closed: anything left open is a leak.
  // A second signal forces the exit.
  const stop = (): void => {
    // A handler stays: without one, Node's default for SIGHUP ends the process at once, and
    // a config reloader may well send one while a pod is stopping.
    process.off('SIGHUP', reload);
    process.on('SIGHUP', () => logger.info('SIGHUP ignored: the router is stopping'));
    process.once('SIGINT', () => process.exit(1));
    process.once('SIGTERM', () => process.exit(1));
    router.close().catch((error: unknown) => {
      logger.error({ err: error }, 'could not stop cleanly');
      process.exitCode = 1;
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.on('SIGHUP', reload);
  if (hupWhileStarting) reload();
}

main().catch((error: unknown) => {
  console.error(`edfs-router: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof Error && error.cause) console.error(`  cause: ${String(error.cause)}`);
  process.exit(1);
});
