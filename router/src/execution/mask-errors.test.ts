import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { pino } from 'pino';
import { maskSubgraphErrors } from './mask-errors.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

describe('maskSubgraphErrors', () => {
  it("replaces a subgraph's message and code, keeps the path, and logs the original once", () => {
    const { logger, lines } = capture();
    const [masked] = maskSubgraphErrors(
      [
        new GraphQLError('connection to db-7.internal:5432 refused', {
          path: ['message', 'user'],
          extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'user' },
        }),
      ],
      logger,
    );
    expect(masked!.toJSON()).toEqual({
      message: 'Unexpected error.',
      path: ['message', 'user'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      subgraph: 'user',
      message: 'connection to db-7.internal:5432 refused',
    });
  });

  it("keeps the router's own errors and those not from a subgraph", () => {
    const { logger, lines } = capture();
    const errors = [
      new GraphQLError('Subgraph "user" timed out.', {
        extensions: { code: 'SUBGRAPH_TIMEOUT', serviceName: 'user' },
      }),
      new GraphQLError('Subgraph "user" is unavailable.', {
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'user' },
      }),
      new GraphQLError('Cannot return null for non-nullable field Message.text.'),
    ];
    expect(maskSubgraphErrors(errors, logger)).toEqual(errors);
    expect(lines).toHaveLength(0);
  });
});
