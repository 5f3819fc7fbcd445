import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';
import { preview } from './inputs.js';

/**
 * Well-behaved subscribers, one per protocol, that must get every event while the router
 * is under attack. Each records the message ids it receives, in order, and anything else
 * it sees (an error, an end) as a problem.
 */
export interface Victim {
  readonly protocol: 'graphql-transport-ws' | 'graphql-ws (legacy)' | 'sse' | 'multipart';
  /** Message ids received, in order of arrival. */
  readonly ids: readonly string[];
  /** Results without a message id, errors, and the subscription's end if it ended. */
  readonly problems: readonly string[];
  /** Resolves once `id` has arrived; rejects if the subscription ends before. */
  received(id: string): Promise<void>;
  close(): Promise<void>;
}

export interface VictimOptions {
  /** The router's GraphQL endpoint, `http://…/graphql`. */
  readonly url: string;
  readonly query: string;
  readonly variables: Record<string, unknown>;
}

/** Subscribes one victim per protocol. */
export function startVictims(options: VictimOptions): Victim[] {
  return [
    graphqlWsVictim(options),
    legacyVictim(options),
    sseVictim(options),
    multipartVictim(options),
  ];
}

class Inbox {
  readonly ids: string[] = [];
  readonly problems: string[] = [];
  readonly #seen = new Set<string>();
  readonly #waiting = new Map<string, { resolve(): void; reject(error: Error): void }[]>();
  #end: Error | undefined;
  #closing = false;

  result(value: unknown): void {
    const result = value as {
      data?: { messageAdded?: { id?: unknown } };
      errors?: { extensions?: { code?: unknown } }[];
    };
    const id = result?.data?.messageAdded?.id;
    // The victims' ids are made up, so the message subgraph says it does not know them.
    const unexpected = result.errors?.some((e) => e.extensions?.code !== 'ENTITY_NOT_FOUND');
    if (typeof id !== 'string' || unexpected) {
      this.problems.push(`an unexpected result ${preview(value, 300)}`);
      return;
    }
    this.ids.push(id);
    this.#seen.add(id);
    for (const waiter of this.#waiting.get(id) ?? []) waiter.resolve();
    this.#waiting.delete(id);
  }

  /** The subscription ended; unless we closed it, that is a problem. */
  end(reason: string): void {
    if (this.#closing || this.#end) return;
    this.problems.push(reason);
    this.#end = new Error(reason);
    for (const waiters of this.#waiting.values())
      for (const waiter of waiters) waiter.reject(this.#end);
    this.#waiting.clear();
  }

  received(id: string): Promise<void> {
    if (this.#seen.has(id)) return Promise.resolve();
    if (this.#end) return Promise.reject(this.#end);
    return new Promise((resolve, reject) => {
      const waiters = this.#waiting.get(id) ?? [];
      waiters.push({ resolve, reject });
      this.#waiting.set(id, waiters);
    });
  }

  closing(): void {
    this.#closing = true;
  }
}

function victim(protocol: Victim['protocol'], inbox: Inbox, close: () => Promise<void>): Victim {
  return {
    protocol,
    ids: inbox.ids,
    problems: inbox.problems,
    received: (id) => inbox.received(id),
    close: async () => {
      inbox.closing();
      await close();
    },
  };
}

const describe = (error: unknown): string => {
  if (typeof error === 'object' && error !== null && 'code' in error && 'reason' in error) {
    return `closed with ${String(error.code)} "${String(error.reason)}"`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : preview(error, 300);
};

function graphqlWsVictim({ url, query, variables }: VictimOptions): Victim {
  const inbox = new Inbox();
  const client = createWsClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
  });
  const unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (result) => inbox.result(result),
      error: (error) => inbox.end(`error: ${describe(error)}`),
      complete: () => inbox.end('completed'),
    },
  );
  return victim('graphql-transport-ws', inbox, async () => {
    unsubscribe();
    await client.dispose();
  });
}

function legacyVictim({ url, query, variables }: VictimOptions): Victim {
  const inbox = new Inbox();
  const client = new SubscriptionClient(
    url.replace(/^http/, 'ws'),
    { reconnect: false },
    WebSocket,
  );
  client.onDisconnected(() => inbox.end('disconnected'));
  const subscription = client.request({ query, variables }).subscribe({
    next: (result) => inbox.result(result),
    error: (error: unknown) => inbox.end(`error: ${describe(error)}`),
    complete: () => inbox.end('completed'),
  });
  return victim('graphql-ws (legacy)', inbox, async () => {
    subscription.unsubscribe();
    client.close();
  });
}

function sseVictim({ url, query, variables }: VictimOptions): Victim {
  const inbox = new Inbox();
  const client = createSseClient({ url, retryAttempts: 0 });
  const unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (result) => inbox.result(result),
      error: (error) => inbox.end(`error: ${describe(error)}`),
      complete: () => inbox.end('completed'),
    },
  );
  return victim('sse', inbox, async () => {
    unsubscribe();
    client.dispose();
  });
}

/** Apollo's multipart protocol, read straight from fetch: each part `{"payload": …}`. */
function multipartVictim({ url, query, variables }: VictimOptions): Victim {
  const inbox = new Inbox();
  const abort = new AbortController();
  const reading = (async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        accept: 'multipart/mixed;subscriptionSpec=1.0',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ query, variables }),
      signal: abort.signal,
    });
    if (!response.ok || !response.body) throw new Error(`answered ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = response.body.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      buffer += decoder.decode(chunk.value, { stream: true });
      const parts = buffer.split('\r\n--graphql');
      buffer = parts.pop()!;
      for (const part of parts) {
        const start = part.indexOf('\r\n\r\n');
        if (start < 0) continue; // the preamble before the first delimiter
        const body = JSON.parse(part.slice(start + 4)) as { payload?: unknown; errors?: unknown };
        if (body.payload !== undefined && body.payload !== null) inbox.result(body.payload);
        else if (body.errors !== undefined) inbox.end(`failed: ${preview(body.errors, 300)}`);
      }
    }
    throw new Error('the stream ended');
  })().catch((error: unknown) => inbox.end(describe(error)));
  return victim('multipart', inbox, async () => {
    abort.abort();
    await reading;
  });
}
