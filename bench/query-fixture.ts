/**
 * The data the query scenario reads, created through the subgraphs themselves before the
 * first query cell: a room of messages by both users, and a scrape job that has settled.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { postGraphQL } from '@edfs/subgraph-shared/testing';
import type { Backend } from './backend.js';

export interface QueryFixture {
  /** The room `messages(roomID:)` lists: only this fixture writes to it. */
  readonly room: string;
  /** Its messages, oldest first (as the message subgraph lists them). */
  readonly messages: readonly { id: string; text: string; userId: string }[];
  /** User names by id, as the user subgraph has them. */
  readonly users: Readonly<Record<string, string>>;
  /** More messages, in a room of their own: one for each request in turn of a varied cell. */
  readonly many: readonly { id: string; text: string; userId: string }[];
  /** A job that will not change again: FAILED, since its URL is a refused private address. */
  readonly scrapeJob: { readonly id: string; readonly status: string };
}

const room = 'bench-query';
/** Messages in the room: one entity fetch of this many representations per federated query. */
const roomSize = 10;
/**
 * Messages a varied cell asks for in turn: more than requests in flight, so no two of them
 * are ever the same request (which a gateway that shares identical requests would merge).
 */
const manySize = 100;

/** The data of one operation sent straight to a subgraph; any error fails the run. */
async function post<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const body = await postGraphQL(url, query, variables);
  if (body.errors || !body.data)
    throw new Error(`query fixture: ${query.slice(0, 40)}… got ${JSON.stringify(body)}`);
  return body.data as T;
}

type Message = QueryFixture['messages'][number];

/** Adds `count` messages to `roomID`, by both users in turn, in one mutation. */
async function addMessages(url: string, roomID: string, count: number): Promise<Message[]> {
  const fields = Array.from(
    { length: count },
    (_, i) =>
      `m${i}: addMessage(roomID: "${roomID}", text: "${roomID} ${i}", userID: "${(i % 2) + 1}") { id text userId }`,
  );
  const added = await post<Record<string, Message>>(url, `mutation { ${fields.join(' ')} }`);
  return Object.values(added);
}

/** Creates the fixture, once per run (a second call would add ten more messages to the room). */
export async function createQueryFixture(backend: Backend): Promise<QueryFixture> {
  const { message, user, 'scrape-job': scrapeJob } = backend.subgraphUrls;
  const added = await addMessages(message, room, roomSize);
  const addedMany = await addMessages(message, `${room}-many`, manySize);
  const { users } = await post<{ users: { id: string; name: string }[] }>(
    user,
    '{ users { id name } }',
  );
  const { scrapeWebsite: jobId } = await post<{ scrapeWebsite: string }>(
    scrapeJob,
    'mutation { scrapeWebsite(url: "http://127.0.0.1:9/") }',
  );
  const deadline = performance.now() + 10_000;
  let status = 'PENDING';
  while (status !== 'FAILED' && status !== 'COMPLETE') {
    if (performance.now() > deadline)
      throw new Error(`query fixture: scrape job still ${status} after 10 s`);
    await sleep(50);
    const { scrapeJob: job } = await post<{ scrapeJob: { status: string } }>(
      scrapeJob,
      'query ($id: ID!) { scrapeJob(id: $id) { status } }',
      { id: jobId },
    );
    status = job.status;
  }
  return {
    room,
    messages: added,
    many: addedMany,
    users: Object.fromEntries(users.map((u) => [u.id, u.name])),
    scrapeJob: { id: jobId, status },
  };
}
