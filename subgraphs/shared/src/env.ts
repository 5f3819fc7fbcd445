import { SubgraphConfigError } from './errors.js';

/** What a standalone subgraph process reads from its environment. */
export interface SubgraphEnvironment {
  /** `PORT`, or the subgraph's own default. */
  port: number;
  /** `HOST`, default `127.0.0.1`: listening on every interface must be asked for. */
  host: string;
  /** `NATS_URL`, default `nats://127.0.0.1:4222`. */
  natsUrl: string;
}

/**
 * Reads `PORT`, `HOST` and `NATS_URL`; unset or empty variables take their defaults.
 *
 * @throws SubgraphConfigError when `PORT` is not an integer from 0 to 65535.
 */
export function readSubgraphEnvironment(
  env: NodeJS.ProcessEnv,
  defaultPort: number,
): SubgraphEnvironment {
  const port = env['PORT'] || String(defaultPort);
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65_535) {
    throw new SubgraphConfigError(`"${port}" is not a TCP port (0-65535)`, 'PORT');
  }
  return {
    port: Number(port),
    host: env['HOST'] || '127.0.0.1',
    natsUrl: env['NATS_URL'] || 'nats://127.0.0.1:4222',
  };
}
