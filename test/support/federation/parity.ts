/** Sending one request to Apollo Gateway and to the router alike, and reading what comes back. */
export interface Body {
  data?: unknown;
  errors?: {
    message: string;
    path?: unknown;
    locations?: unknown;
    extensions?: { code?: unknown };
  }[];
}

export type Accept = 'application/json' | 'application/graphql-response+json';

export async function send(
  url: string,
  query: string | undefined,
  variables?: Record<string, unknown>,
  operationName?: string,
  accept: Accept = 'application/json',
): Promise<{ status: number; body: Body }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify({ query, variables, operationName }),
  });
  // Never an empty body: JSON.parse('') throws.
  return { status: response.status, body: JSON.parse(await response.text()) as Body };
}

/** What a client reads from each error: its message, locations and code. */
export function readable(body: Body): unknown {
  return body.errors?.map(({ message, locations, extensions }) => ({
    message,
    locations,
    code: extensions?.code,
  }));
}

export interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}
