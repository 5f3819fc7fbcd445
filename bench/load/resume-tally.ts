import { Histogram } from '../histogram.js';
import { operations } from '../operations.js';
import type { CellSpec, ResumeResult } from './protocol.js';
import { countErrorCode } from './tally.js';

interface Payload {
  data?: { messageAdded?: Record<string, unknown> | null } | null;
  errors?: { extensions?: { code?: unknown } }[];
  extensions?: { cursor?: unknown };
}

/** One resumer: subscribed, then away after the event it will resume from, then resumed. */
interface Resumer {
  state: 'first' | 'away' | 'resumed';
  /** Measured events received before leaving. */
  firstReceipts: number;
  /** The last event received before leaving, and its cursor. */
  left: number;
  cursor: string | undefined;
  /** When it subscribed again, and the last event published by then. */
  resubscribedAt: number;
  target: number;
  /** Missed events (after `left`, up to `target`) received; all of them means caught up. */
  missed: number;
  caughtUp: boolean;
  /** Done waiting: caught up, ended, or overtaken (a later event came first). */
  settled: boolean;
  highest: number;
  /** Events received since resuming, by sequence number (1 once seen). */
  seen: Uint8Array;
}

/**
 * What the resumers received, matched by message id as in `Tally`: before leaving (to
 * learn the cursor each resumes from), and after resuming (every event after that cursor,
 * once, in order; when it had all the missed ones). `onLeave(index)` is called when
 * resumer `index` has received the event at `leaveAt` or a later one: it disconnects.
 */
export class ResumeTally {
  readonly #spec: CellSpec;
  readonly #resumers: Resumer[];
  readonly #sequenceOf: Map<string, number>;
  readonly #onLeave: (index: number) => void;
  readonly #catchUp = new Histogram();
  /** Resumers leave once they have received this event or a later one. */
  leaveAt = Number.POSITIVE_INFINITY;
  #live = 0;
  #away = 0;
  #caughtUp = 0;
  #endedAfterResume = 0;
  #settled = 0;
  #lastSettled = 0;
  readonly #endReasons: Record<string, number> = {};
  /** Time of the last receipt of any kind. */
  lastActivity = 0;
  #firstResubscribe = Number.POSITIVE_INFINITY;
  #lastCaughtUp = 0;
  #received = 0;
  #replayed = 0;
  #duplicates = 0;
  #outOfOrder = 0;
  #errors = 0;
  readonly #errorCodes: Record<string, number> = {};
  #incomplete = 0;

  constructor(spec: CellSpec, count: number, onLeave: (index: number) => void) {
    this.#spec = spec;
    this.#sequenceOf = new Map(spec.eventIds.map((id, n) => [id, n]));
    this.#onLeave = onLeave;
    this.#resumers = Array.from({ length: count }, () => ({
      state: 'first',
      firstReceipts: 0,
      left: -1,
      cursor: undefined,
      resubscribedAt: 0,
      target: -1,
      missed: 0,
      caughtUp: false,
      settled: false,
      highest: -1,
      seen: new Uint8Array(spec.eventIds.length),
    }));
  }

  /** Resumers that have received at least one event since they first subscribed. */
  get live(): number {
    return this.#live;
  }

  /** Resumers that have left, each with the cursor it will resume from. */
  get away(): number {
    return this.#away;
  }

  /**
   * Resumers done catching up: with every event they missed, ended, or overtaken (a live
   * event came while a missed one had not: results come in order, so it never will).
   */
  get settled(): number {
    return this.#settled;
  }

  /** When the last resumer settled (`performance.now()`). */
  get lastSettled(): number {
    return this.#lastSettled;
  }

  /** The cursor resumer `index` left with; an error if it got none. */
  cursorOf(index: number): string {
    const { cursor, left } = this.#resumers[index]!;
    if (cursor === undefined) {
      throw new Error(
        `resumer ${index}: event ${left} came without extensions.cursor (is the field stream-backed?)`,
      );
    }
    return cursor;
  }

  /** Resumer `index` subscribed again at `at`, when `target` was the last event published. */
  resubscribed(index: number, at: number, target: number): void {
    const resumer = this.#resumers[index]!;
    resumer.state = 'resumed';
    resumer.resubscribedAt = at;
    resumer.target = target;
    this.#firstResubscribe = Math.min(this.#firstResubscribe, at);
  }

  /** Its subscription ended (`reason`: close code, `error`, `complete`) before the run did. */
  ended(index: number, reason: string): void {
    const resumer = this.#resumers[index]!;
    if (resumer.state !== 'resumed') return;
    this.#settle(resumer, performance.now());
    this.#endedAfterResume += 1;
    const key = reason.slice(0, 80);
    this.#endReasons[key] = (this.#endReasons[key] ?? 0) + 1;
  }

  receive(index: number, raw: unknown, at: number): void {
    this.lastActivity = at;
    const resumer = this.#resumers[index]!;
    const payload = raw as Payload;
    const value = payload.data?.messageAdded;
    const id = value?.['id'];
    const sequence = typeof id === 'string' ? this.#sequenceOf.get(id) : undefined;
    countErrorCode(this.#errorCodes, payload);
    if (sequence === undefined) {
      this.#errors += 1; // an error result, or an id that is not a measured event
      return;
    }
    if (resumer.state === 'first') {
      if (resumer.firstReceipts++ === 0) this.#live += 1;
      if (sequence < this.leaveAt) return;
      const cursor = payload.extensions?.cursor;
      resumer.cursor = typeof cursor === 'string' ? cursor : undefined;
      resumer.left = sequence;
      resumer.state = 'away';
      this.#away += 1;
      this.#onLeave(index);
      return;
    }
    if (resumer.state === 'away') return; // in flight when it left: not its any more
    if (sequence <= resumer.left || resumer.seen[sequence]) {
      this.#duplicates += 1;
      return;
    }
    resumer.seen[sequence] = 1;
    this.#received += 1;
    if (sequence < resumer.highest) this.#outOfOrder += 1;
    resumer.highest = Math.max(resumer.highest, sequence);
    if (payload.errors?.length) this.#errors += 1;
    else if (this.#spec.joins && !operations[0]!.joined(value)) this.#incomplete += 1;
    if (sequence > resumer.target) {
      this.#settle(resumer, at); // overtaken, if it had not caught up
      return;
    }
    this.#replayed += 1;
    resumer.missed += 1;
    if (resumer.missed === resumer.target - resumer.left) {
      resumer.caughtUp = true;
      this.#caughtUp += 1;
      this.#lastCaughtUp = Math.max(this.#lastCaughtUp, at);
      this.#catchUp.record(at - resumer.resubscribedAt);
      this.#settle(resumer, at);
    }
  }

  #settle(resumer: Resumer, at: number): void {
    if (resumer.settled) return;
    resumer.settled = true;
    this.#settled += 1;
    this.#lastSettled = Math.max(this.#lastSettled, at);
  }

  /** Deliveries owed to the resumers once `published` events have gone out. */
  expectedFor(published: number): number {
    let expected = 0;
    for (const { state, left } of this.#resumers) {
      if (state === 'resumed') expected += Math.max(0, published - 1 - left);
    }
    return expected;
  }

  get received(): number {
    return this.#received;
  }

  /** Everything but the live subscribers' latency, which the live tally has. */
  result(published: number): Omit<ResumeResult, 'live'> {
    const behind = this.#resumers
      .filter((r) => r.state === 'resumed')
      .map((r) => r.target - r.left);
    if (behind.length === 0) behind.push(0);
    const expected = this.expectedFor(published);
    // Where the missing events fall: missed ones counted from the cursor, live ones from
    // the resubscribe (1 is the first event after it).
    const live = new Span();
    const replayed = new Span();
    for (const { state, left, target, seen } of this.#resumers) {
      if (state !== 'resumed') continue;
      for (let n = left + 1; n < published; n++) {
        if (seen[n]) continue;
        if (n > target) live.add(n - target);
        else replayed.add(n - left);
      }
    }
    return {
      resumers: this.#resumers.length,
      behind: { min: Math.min(...behind), max: Math.max(...behind) },
      catchUp: this.#catchUp.summary(),
      allCaughtUpMs:
        this.#caughtUp === this.#resumers.length ? this.#lastCaughtUp - this.#firstResubscribe : -1,
      caughtUp: this.#caughtUp,
      replayed: this.#replayed,
      expected,
      received: this.#received,
      missing: expected - this.#received,
      missingReplayedAt: replayed.range(),
      missingLive: live.count,
      missingLiveAfter: live.range(),
      duplicates: this.#duplicates,
      outOfOrder: this.#outOfOrder,
      errors: this.#errors,
      errorCodes: this.#errorCodes,
      incomplete: this.#incomplete,
      ended: this.#endedAfterResume,
      endReasons: this.#endReasons,
    };
  }
}

/** How many numbers were added, and the least and greatest (0, 0 if none). */
class Span {
  count = 0;
  #first = Number.POSITIVE_INFINITY;
  #last = 0;

  add(n: number): void {
    this.count += 1;
    this.#first = Math.min(this.#first, n);
    this.#last = Math.max(this.#last, n);
  }

  range(): { first: number; last: number } {
    return this.count ? { first: this.#first, last: this.#last } : { first: 0, last: 0 };
  }
}
