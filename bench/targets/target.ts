import type { Backend } from '../backend.js';

export const targetNames = ['router', 'relay', 'hive', 'apollo'] as const;
export type TargetName = (typeof targetNames)[number];

/** What a launcher needs to start its server against the shared backend. */
export interface TargetContext {
  readonly backend: Backend;
  /** A scratch directory for generated config files. */
  readonly workDir: string;
  /**
   * Read `messageAdded` from its JetStream stream (schemas/events.graphql), for the resume
   * scenario; only the router can. @default false: core NATS, like the relay and Hive
   */
  readonly durable?: boolean;
  /** Run the router under `node --cpu-prof`, writing its profile here on exit. @default none */
  readonly cpuProfileDir?: string;
}

/** A server under test, listening for graphql-transport-ws on `url`. */
export interface RunningTarget {
  readonly name: TargetName;
  /** e.g. `ws://127.0.0.1:39211/graphql` (Apollo, which serves no subscriptions here: its `httpUrl`) */
  readonly url: string;
  /** Where it answers GraphQL over HTTP POST, for the query scenario; absent for the relay. */
  readonly httpUrl?: string;
  /** The server's own process (CPU and memory are read from /proc/<pid>). */
  readonly pid: number;
  /** The NATS subject of a room's events, `{room}` standing for the room id. */
  readonly subjectTemplate: string;
  /** False for the relay, which forwards the event's keys without resolving fields. */
  readonly joins: boolean;
  stop(): Promise<void>;
}

export type StartTarget = (context: TargetContext) => Promise<RunningTarget>;
