import { Histogram } from '../histogram.js';
import { operations } from '../operations.js';
import type { CellSpec, LoadResult, WindowLatency } from './protocol.js';

interface Payload {
  data?: { messageAdded?: Record<string, unknown> | null } | null;
  errors?: { extensions?: { code?: unknown } }[];
}

/** Counts a result's first error under its `extensions.code`, if it has errors. */
export function countErrorCode(counts: Record<string, number>, payload: Payload): void {
  if (!payload.errors?.length) return;
  const code = payload.errors[0]?.extensions?.code;
  const key = typeof code === 'string' ? code.slice(0, 40) : 'no code';
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Per subscriber: which room and operation it uses, and what it has received. */
interface Subscriber {
  readonly room: number;
  readonly operation: number;
  warmups: number;
  /** Measured events received, by sequence number (1 once seen). */
  seen: Uint8Array;
  /** The latest measured event received so far (-1: none). */
  last: number;
}

/** The latency of the receipts of the events published in one window of a run. */
interface Window {
  readonly latency: Histogram;
  events: number;
}

/**
 * Matches receipts to publishes by message id: measured event `n` carries
 * `spec.eventIds[n]` and goes to room `n % rooms`. Counts what each subscriber got, once,
 * twice, late or never, and records publish-to-receipt latency, overall and by the window
 * each event was published in.
 */
export class Tally {
  readonly #spec: CellSpec;
  readonly #subscribers: Subscriber[] = [];
  readonly #sequenceOf: Map<string, number>;
  readonly #warmupIds: Set<string>;
  readonly #latency = new Histogram();
  readonly #windows = new Map<string, Window>();
  #windowOf: (Window | undefined)[] = [];
  #publishedAt = new Float64Array(0);
  #published = 0;
  #received = 0;
  #duplicates = 0;
  #reordered = 0;
  #errors = 0;
  readonly #errorCodes: Record<string, number> = {};
  #incomplete = 0;
  #misrouted = 0;
  #ended = 0;
  #warmupReceipts = 0;
  #frames = 0;
  #firstPublish = 0;
  #lastPublish = 0;
  #lastReceipt = 0;
  /** Time of the last receipt of any kind, to tell when deliveries have stopped coming. */
  lastActivity = 0;

  constructor(spec: CellSpec) {
    this.#spec = spec;
    this.#sequenceOf = new Map(spec.eventIds.map((id, n) => [id, n]));
    this.#warmupIds = new Set(spec.warmupIds);
  }

  /** Registers subscriber `index` (its room and operation follow from the index). */
  add(index: number): void {
    this.#subscribers[index] = {
      room: index % this.#spec.rooms.length,
      operation: index % this.#spec.operations,
      warmups: 0,
      seen: new Uint8Array(0),
      last: -1,
    };
  }

  /** Prepares for `events` measured events. */
  beginMeasure(events: number): void {
    this.#publishedAt = new Float64Array(events);
    for (const subscriber of this.#subscribers) {
      subscriber.seen = new Uint8Array(events);
      subscriber.last = -1;
    }
  }

  /** Event `sequence` went out at `at`; its receipts' latency counts in `window` too, if given. */
  published(sequence: number, at: number, window?: string): void {
    if (window !== undefined) {
      let inWindow = this.#windows.get(window);
      if (!inWindow)
        this.#windows.set(window, (inWindow = { latency: new Histogram(), events: 0 }));
      inWindow.events += 1;
      this.#windowOf[sequence] = inWindow;
    }
    this.#publishedAt[sequence] = at;
    this.#published = Math.max(this.#published, sequence + 1);
    if (sequence === 0) this.#firstPublish = at;
    this.#lastPublish = at;
  }

  ended(): void {
    this.#ended += 1;
  }

  receive(index: number, raw: unknown, at: number): void {
    this.lastActivity = at;
    this.#frames += 1;
    const subscriber = this.#subscribers[index]!;
    const payload = raw as Payload;
    const value = payload.data?.messageAdded;
    const id = value?.['id'];
    const sequence = typeof id === 'string' ? this.#sequenceOf.get(id) : undefined;
    if (sequence === undefined || sequence >= this.#published) {
      if (typeof id === 'string' && this.#warmupIds.has(id)) {
        subscriber.warmups += 1;
        this.#warmupReceipts += 1;
      } else {
        this.#errors += 1; // an error result, or an id nobody published in this phase
        countErrorCode(this.#errorCodes, payload);
      }
      return;
    }
    if (subscriber.seen[sequence]) {
      this.#duplicates += 1;
      return;
    }
    subscriber.seen[sequence] = 1;
    // Events to one room go in sequence order, so each subscriber must get them in it.
    if (sequence < subscriber.last) this.#reordered += 1;
    else subscriber.last = sequence;
    this.#received += 1;
    this.#lastReceipt = at;
    const latency = at - this.#publishedAt[sequence]!;
    this.#latency.record(latency);
    this.#windowOf[sequence]?.latency.record(latency);
    if (sequence % this.#spec.rooms.length !== subscriber.room) this.#misrouted += 1;
    countErrorCode(this.#errorCodes, payload);
    if (payload.errors?.length) this.#errors += 1;
    else if (this.#spec.joins && !operations[subscriber.operation]!.joined(value)) {
      this.#incomplete += 1;
    }
  }

  get warmupReceipts(): number {
    return this.#warmupReceipts;
  }

  /** Rooms with at least one subscriber that has not received a warm-up event yet. */
  roomsAwaitingWarmup(): Set<number> {
    const rooms = new Set<number>();
    for (const subscriber of this.#subscribers)
      if (subscriber.warmups === 0) rooms.add(subscriber.room);
    return rooms;
  }

  /** Deliveries that `events` events (to rooms round-robin) owe the subscribers. */
  expectedFor(events: number): number {
    const rooms = this.#spec.rooms.length;
    const perRoom = new Array<number>(rooms).fill(0);
    for (const subscriber of this.#subscribers) perRoom[subscriber.room]! += 1;
    let expected = 0;
    for (let room = 0; room < rooms; room++) {
      const eventsToRoom = Math.floor(events / rooms) + (room < events % rooms ? 1 : 0);
      expected += eventsToRoom * perRoom[room]!;
    }
    return expected;
  }

  /** Latency of the receipts of the events published in `window`. */
  windowLatency(window: string): WindowLatency {
    const inWindow = this.#windows.get(window);
    const latency = inWindow?.latency ?? new Histogram();
    return { ...latency.summary(), events: inWindow?.events ?? 0, receipts: latency.count };
  }

  get received(): number {
    return this.#received;
  }

  /** Every result received so far, measured or not. */
  get frames(): number {
    return this.#frames;
  }

  get lastReceipt(): number {
    return this.#lastReceipt;
  }

  /**
   * `window`: when measuring began and ended, and the results of any kind received in
   * between (warm-up stragglers count: they are deliveries the server made under load).
   */
  result(
    times: { connectMs: number; establishMs: number },
    window = { startedAt: 0, endedAt: 0, frames: 0 },
  ): LoadResult {
    const expected = this.expectedFor(this.#published);
    return {
      subscribers: this.#subscribers.length,
      ...times,
      published: this.#published,
      publishMs: this.#lastPublish - this.#firstPublish,
      expected,
      received: this.#received,
      missing: expected - this.#received,
      duplicates: this.#duplicates,
      reordered: this.#reordered,
      errors: this.#errors,
      errorCodes: this.#errorCodes,
      incomplete: this.#incomplete,
      misrouted: this.#misrouted,
      ended: this.#ended,
      windowMs: window.endedAt - window.startedAt,
      deliveredInWindow: window.frames,
      latency: this.#latency.summary(),
    };
  }
}
