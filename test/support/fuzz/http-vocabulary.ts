/** What the HTTP attacks share: media types to accept, the victims' request, endings. */
import type { RawEnding } from './http-client.js';
import { ROOM_SUBSCRIPTION, VICTIM_ROOM } from './inputs.js';
import type { Random } from './random.js';

export const ACCEPTS = [
  'application/json',
  'application/graphql-response+json',
  'text/event-stream',
  'multipart/mixed;subscriptionSpec=1.0',
  'multipart/mixed;subscriptionSpec="1.0", application/json;q=0.9',
  '*/*',
  'text/html',
  'image/png',
  'multipart/mixed',
  'text/event-stream;q=0, application/json',
];

export const STREAMS = ['text/event-stream', 'multipart/mixed;subscriptionSpec=1.0'];

export const VICTIM_BODY = JSON.stringify({
  query: ROOM_SUBSCRIPTION,
  variables: { roomID: VICTIM_ROOM },
});

/** Every byte as %XX: any bytes, UTF-8 or not, in a query string. */
export const percentEncode = (bytes: Buffer): string =>
  [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** A GraphQL request in JSON as GET parameters: the query, and the variables in JSON. */
export function queryString(json: string): string {
  const { query, variables } = JSON.parse(json) as { query: string; variables?: unknown };
  const params = new URLSearchParams({ query });
  if (variables !== undefined) params.set('variables', JSON.stringify(variables));
  return params.toString();
}

/** An ending that never waits on a stream the router keeps open. */
export const endingFor = (accept: string, rng: Random): RawEnding =>
  /event-stream|subscriptionSpec/.test(accept)
    ? rng.pick(['first-byte', 'reset', 'destroy'] as const)
    : 'read';
