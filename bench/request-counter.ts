import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** HTTP requests that reached this process's HTTP servers, by server port. */
export interface RequestCounter {
  /** Requests since the last `reset`, summed over every counted port. */
  total(): number;
  /** Requests since the last `reset` on one port. */
  onPort(port: number): number;
  reset(): void;
  close(): void;
}

/**
 * Counts requests at the receiving end, through Node's `http.server.request.start`
 * diagnostics channel: no proxy hop in front of the subgraphs, so every target pays the
 * same (nothing) for being counted.
 */
export function countHttpRequests(ports: readonly number[]): RequestCounter {
  const counts = new Map<number, number>(ports.map((port) => [port, 0]));
  const onRequest = (message: unknown): void => {
    const server = (message as { server?: Server }).server;
    const port = (server?.address() as AddressInfo | null)?.port;
    if (port !== undefined && counts.has(port)) counts.set(port, counts.get(port)! + 1);
  };
  subscribe('http.server.request.start', onRequest);
  return {
    total: () => [...counts.values()].reduce((sum, n) => sum + n, 0),
    onPort: (port) => counts.get(port) ?? 0,
    reset: () => {
      for (const port of counts.keys()) counts.set(port, 0);
    },
    close: () => unsubscribe('http.server.request.start', onRequest),
  };
}
