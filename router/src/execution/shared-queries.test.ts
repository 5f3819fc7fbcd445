import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { describe, expect, it } from 'vitest';
import { shareInflightQueries } from './shared-queries.js';

/** A fetcher whose answers wait until `answer()`; it records every call it gets. */
function gatedFetcher() {
  const calls: string[] = [];
  const gates: (() => void)[] = [];
  const fetcher: Fetcher = (url, init) => {
    calls.push(`${url} ${String(init?.body)}`);
    const n = calls.length;
    return new Promise((resolve) => gates.push(() => resolve(response(`answer ${n}`))));
  };
  return { fetcher, calls, answer: () => gates.splice(0).forEach((open) => open()) };
}

function response(text: string): FetcherResponse {
  const r = { text: () => Promise.resolve(text), clone: () => ({ ...r, cloned: true }) };
  return r as unknown as FetcherResponse;
}

const query = (q: string, variables: object = {}) => JSON.stringify({ query: q, variables });
const post = (body: string, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers,
  body,
});

describe('shareInflightQueries', () => {
  it('sends identical queries in flight once and gives each caller its own copy', async () => {
    const { fetcher, calls, answer } = gatedFetcher();
    const shared = shareInflightQueries(fetcher);
    const body = query('query($id:ID!){message(id:$id){text}}', { id: '1' });
    const answers = [
      shared('http://s/graphql', post(body)),
      shared('http://s/graphql', post(body)),
    ];
    expect(calls).toHaveLength(1);
    answer();
    const [a, b] = await Promise.all(answers);
    expect(a).not.toBe(b);
    expect(await a!.text()).toBe('answer 1');
    expect(await b!.text()).toBe('answer 1');
  });

  it('sends again once the first answer is in', async () => {
    const { fetcher, calls, answer } = gatedFetcher();
    const shared = shareInflightQueries(fetcher);
    const body = query('{ users { id } }');
    const first = shared('http://s/graphql', post(body));
    answer();
    await first;
    const second = shared('http://s/graphql', post(body));
    answer();
    expect(await (await second).text()).toBe('answer 2');
    expect(calls).toHaveLength(2);
  });

  it('gives a query sent after a mutation answered a request of its own', async () => {
    const calls: string[] = [];
    const gates = new Map<string, () => void>();
    const fetcher: Fetcher = (_url, init) => {
      const body = String(init?.body);
      calls.push(body);
      const n = calls.length;
      return new Promise((resolve) => gates.set(body, () => resolve(response(`answer ${n}`))));
    };
    const shared = shareInflightQueries(fetcher);
    const read = query('{ value }');
    const write = query('mutation { set(value: 42) }');
    const before = shared('http://s/graphql', post(read)); // slow: still in flight
    const written = shared('http://s/graphql', post(write));
    gates.get(write)!();
    await written;
    const after = shared('http://s/graphql', post(read));
    expect(calls).toEqual([read, write, read]);
    gates.get(read)!(); // the second read's gate
    expect(await (await after).text()).toBe('answer 3');
    expect(await Promise.race([before, Promise.resolve('in flight')])).toBe('in flight');
  });

  it('shares nothing between different variables, headers, URLs or a mutation', async () => {
    const { fetcher, calls, answer } = gatedFetcher();
    const shared = shareInflightQueries(fetcher);
    const body = query('query($id:ID!){message(id:$id){text}}', { id: '1' });
    const mutation = query('mutation{addMessage(roomID:"1",text:"x",userID:"1"){id}}');
    const sent = [
      shared('http://s/graphql', post(body)),
      shared('http://s/graphql', post(query('query($id:ID!){message(id:$id){text}}', { id: '2' }))),
      shared('http://s/graphql', post(body, { authorization: 'Bearer a' })),
      shared('http://t/graphql', post(body)),
      shared('http://s/graphql', post(mutation)),
      shared('http://s/graphql', post(mutation)),
    ];
    expect(calls).toHaveLength(6);
    answer();
    await Promise.all(sent);
  });

  it('passes a failure to every caller that shared the request, then forgets it', async () => {
    let calls = 0;
    const failing: Fetcher = () => {
      calls += 1;
      return Promise.reject(new Error('connection refused'));
    };
    const shared = shareInflightQueries(failing);
    const body = query('{ users { id } }');
    const both = [shared('http://s/graphql', post(body)), shared('http://s/graphql', post(body))];
    for (const attempt of both) await expect(attempt).rejects.toThrow('connection refused');
    await expect(shared('http://s/graphql', post(body))).rejects.toThrow('connection refused');
    expect(calls).toBe(2);
  });
});
