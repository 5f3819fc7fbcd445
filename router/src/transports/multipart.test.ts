import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { MULTIPART_FRAMING as framing } from './multipart.js';

describe('MULTIPART_FRAMING', () => {
  it('ends every part with the delimiter, so a client can read it at once', () => {
    const body =
      framing.open +
      framing.result(JSON.stringify({ data: { a: 1 } })) +
      framing.heartbeat +
      framing.fatal([new GraphQLError('gone', { extensions: { code: 'X' } })]) +
      framing.close;
    expect(body).toBe(
      [
        '',
        '--graphql',
        'Content-Type: application/json',
        '',
        '{}',
        '--graphql',
        'Content-Type: application/json',
        '',
        '{"payload":{"data":{"a":1}}}',
        '--graphql',
        'Content-Type: application/json',
        '',
        '{}',
        '--graphql',
        'Content-Type: application/json',
        '',
        '{"payload":null,"errors":[{"message":"gone","extensions":{"code":"X"}}]}',
        '--graphql--',
        '',
      ].join('\r\n'),
    );
  });

  it('declares the boundary and the subscription spec', () => {
    expect(framing.headers['content-type']).toBe(
      'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
    );
  });
});
