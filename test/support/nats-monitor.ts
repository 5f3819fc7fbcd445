/**
 * What a NATS server's monitoring endpoint (`/connz`) says about one client's connections:
 * how many subscriptions it holds, and why the server closed its earlier connections.
 */

export interface ClientConnection {
  /** The server's id of the connection; a new one after every reconnect. */
  readonly cid: number;
  readonly subscriptions: number;
}

interface Connz {
  connections?: {
    cid: number;
    name?: string;
    subscriptions?: number;
    subscriptions_list?: string[];
    reason?: string;
  }[];
}

/** The open connections named `name` (the router's is "edfs-router"). */
export async function openConnections(
  monitorUrl: string,
  name: string,
): Promise<ClientConnection[]> {
  const response = await fetch(`${monitorUrl}/connz?limit=10000`);
  const { connections = [] } = (await response.json()) as Connz;
  return connections
    .filter((connection) => connection.name === name)
    .map(({ cid, subscriptions }) => ({ cid, subscriptions: subscriptions ?? 0 }));
}

/** Why the server closed connections named `name`, e.g. "Maximum Control Line Exceeded". */
export async function closeReasons(monitorUrl: string, name: string): Promise<string[]> {
  const response = await fetch(`${monitorUrl}/connz?state=closed&limit=10000`);
  const { connections = [] } = (await response.json()) as Connz;
  return connections
    .filter((connection) => connection.name === name)
    .map((connection) => `cid ${connection.cid}: ${connection.reason ?? 'no reason given'}`);
}

/** The subjects that connections named `name` are subscribed to. */
export async function subscribedSubjects(monitorUrl: string, name: string): Promise<string[]> {
  const response = await fetch(`${monitorUrl}/connz?subs=1&limit=10000`);
  const { connections = [] } = (await response.json()) as Connz;
  return connections
    .filter((connection) => connection.name === name)
    .flatMap((connection) => connection.subscriptions_list ?? []);
}
