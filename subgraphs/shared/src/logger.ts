import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stdout, one line per event, tagged with the subgraph's name.
 * `LOG_LEVEL` sets the level (default `info`).
 */
export function createSubgraphLogger(
  name: string,
  level: string = process.env['LOG_LEVEL'] ?? 'info',
): Logger {
  return pino({ level, base: { service: `subgraph-${name}` } });
}
