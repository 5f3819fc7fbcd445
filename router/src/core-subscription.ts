import { GraphQLError, type ExecutionResult } from 'graphql';
import { forwardedKey } from './auth/forwarded-headers.js';
import { onExpiry, tokenExpired } from './auth/expiry.js';
import type { EventHub, GroupSpec, Subscriber } from './events/event-hub.js';
import type { EntityEvent } from './events/event.js';
import { SubscriptionLifetime, type LifetimeHooks } from './events/lifetime.js';
import { normalizedVariables } from './execution/normalize.js';
import type { FieldInstrumentation, Trace } from './instrumentation.js';
import type { PreparedRequest, SchemaSnapshot, SubscriptionSink } from './core.js';

/**
 * One open subscription of the core, and the fan-out group spec it joins with: one of each
 * per subscription, so what they do is methods on their prototypes rather than closures
 * made per subscription, each of which costs memory for every open one (tsx's keepNames
 * gives each named closure a property table of its own, some 300 bytes).
 */

/** What every subscription of one core shares. */
export interface SubscriptionContext {
  readonly hub: EventHub;
  /** Subscriptions open now, each able to move itself to another supergraph. */
  readonly live: Set<CoreSubscription>;
  /** See `CoreOptions.slowSubscriberLimit`. */
  readonly slowSubscriberLimit: number;
  /** See `CoreOptions.slowSubscriberMaxBytes`. */
  readonly slowSubscriberMaxBytes: number;
  /**
   * A subscription's request prepared again against a reloaded supergraph, or why it
   * cannot go on there.
   */
  prepareAgain(prepared: PreparedRequest, next: SchemaSnapshot): PreparedRequest | string;
}

/** How far past its limit a subscriber whose connection is clear may fall behind. */
const HARD_LIMIT_FACTOR = 10;
/** A replay for a subscriber holding half its limit unwritten waits for its connection. */
const PACE_FACTOR = 0.5;

/** Until it has joined the hub, leaving has nothing to undo. */
const notJoined = (): void => {};

/** A subscription whose results go to its transport's sink, from the time it joins the hub. */
export class CoreSubscription implements Subscriber, LifetimeHooks {
  readonly lifetime = new SubscriptionLifetime<ExecutionResult>(this);
  /** A replay for this subscriber waits here while its connection is behind. */
  readonly #paused: (() => void)[] = [];
  /** Sizes of the results handed to the sink that the OS has not taken yet, oldest first. */
  #unwrittenSizes: number[] | undefined;
  #unwrittenBytes = 0;
  /**
   * The sink's callback for every written result: a sink reports its writes in order, so it
   * takes the oldest size off the queue (no closure per result on the fan-out's hot path).
   * Made at the first write, so an idle subscription does not hold one.
   */
  #written: (() => void) | undefined;
  #spec: GroupSpec;
  #leave: () => void = notJoined;
  /** A supergraph reloaded while it could not move yet: it moves there once it can. */
  #moveTo: SchemaSnapshot | undefined;
  #cancelExpiry: (() => void) | undefined;

  constructor(
    private readonly context: SubscriptionContext,
    private readonly prepared: PreparedRequest,
    private readonly sink: SubscriptionSink,
    private readonly instruments: FieldInstrumentation,
  ) {
    this.#spec = new RequestGroupSpec(prepared);
    instruments.subscriptionOpened(sink.transport);
  }

  /** Joins the hub; the hub may end it at once (the broker refused). */
  start(): void {
    const { caller, subject, start } = this.prepared;
    this.context.live.add(this);
    this.#leave = this.context.hub.join(subject!, this.#spec, this, start);
    if (caller.expiresAt !== undefined && !this.lifetime.ended) {
      this.#cancelExpiry = onExpiry(caller.expiresAt, () => this.#expired());
    }
  }

  push(serialize: () => string, cursor: string | undefined): boolean {
    if (this.#behind(1) && (this.sink.isBackedUp() || this.#behind(HARD_LIMIT_FACTOR))) {
      return false;
    }
    this.#write(serialize(), cursor);
    return true;
  }

  writable(): Promise<void> | undefined {
    return this.#behind(PACE_FACTOR)
      ? new Promise<void>((resume) => this.#paused.push(resume))
      : undefined;
  }

  end(error: GraphQLError): void {
    if (this.sink.failed) this.sink.failed(error);
    else this.#write(JSON.stringify({ errors: [error] }));
    this.lifetime.end();
    this.#unpause();
  }

  tooSlow(): void {
    this.lifetime.end();
    this.#unpause();
    this.sink.tooSlow();
  }

  /** The client left. */
  onReturn(): void {
    this.#leave();
    this.#unpause();
  }

  /** However it ended. */
  onEnd(): void {
    this.context.live.delete(this);
    this.#cancelExpiry?.();
    this.instruments.subscriptionClosed(this.sink.transport);
    this.sink.closed?.();
  }

  /** Moves it to a reloaded supergraph, or ends it there; true if it goes on. */
  move(next: SchemaSnapshot): boolean {
    const again = this.context.prepareAgain(this.prepared, next);
    if (typeof again === 'string') {
      this.#leave();
      this.end(schemaChanged(again));
      return false;
    }
    const nextSpec = new RequestGroupSpec(again);
    const moved = this.context.hub.move(this.prepared.subject!, this.#spec.key, nextSpec, this);
    if (!moved) {
      // Catching up on stored events, or still moving after an earlier reload: it finishes
      // that where it is, then moves (handedOver), to the last supergraph asked for.
      this.#moveTo = next;
      return true;
    }
    this.#moveTo = undefined;
    this.#spec = nextSpec;
    this.#leave = moved;
    return true;
  }

  handedOver(): void {
    const next = this.#moveTo;
    if (!next || this.lifetime.ended) return;
    this.#moveTo = undefined;
    this.move(next);
  }

  #expired(): void {
    this.#leave();
    const error = tokenExpired();
    if (this.sink.expired) this.sink.expired(error);
    else if (this.sink.failed) this.sink.failed(error);
    else this.#write(JSON.stringify({ errors: [error] }));
    this.lifetime.end();
    this.#unpause();
  }

  #write(json: string, cursor?: string): void {
    const bytes = byteLength(json);
    (this.#unwrittenSizes ??= []).push(bytes);
    this.#unwrittenBytes += bytes;
    this.sink.write(json, (this.#written ??= () => this.#wrote()), cursor);
  }

  #wrote(): void {
    this.#unwrittenBytes -= this.#unwrittenSizes?.shift() ?? 0;
    if (this.#paused.length > 0 && !this.#behind(PACE_FACTOR)) this.#unpause();
  }

  #behind(factor: number): boolean {
    const { slowSubscriberLimit, slowSubscriberMaxBytes } = this.context;
    return (
      (this.#unwrittenSizes?.length ?? 0) >= slowSubscriberLimit * factor ||
      this.#unwrittenBytes >= slowSubscriberMaxBytes * factor
    );
  }

  #unpause(): void {
    for (const resume of this.#paused.splice(0)) resume();
  }
}

/** The spec of a subscription's fan-out group: what decides its results, and how to resolve one. */
class RequestGroupSpec implements GroupSpec {
  readonly key: string;
  readonly field: string;
  readonly provider: string;
  readonly stream: string | undefined;
  readonly validate: GroupSpec['validate'];

  constructor(private readonly prepared: PreparedRequest) {
    const { snapshot, operation, variables, caller, filter } = prepared;
    const { binding } = operation.subscription!;
    // Whatever decides the result is in the key: the supergraph, the operation, the
    // variables, what reaches the subgraphs and the rendered filter.
    this.key = `${snapshot.version}\u0000${operation.key}\u0000${normalizedVariables(variables)}\u0000${forwardedKey(caller.forwardedHeaders)}\u0000${filter?.key ?? ''}`;
    this.field = binding.name;
    this.provider = binding.provider;
    this.stream = binding.stream;
    this.validate = binding.validate;
  }

  resolve(event: EntityEvent, trace: Trace): Promise<ExecutionResult | undefined> {
    const { snapshot, operation, variables, caller, filter } = this.prepared;
    const { responseKey } = operation.subscription!;
    return snapshot.executor
      .resolveEvent(operation, variables, event, caller.forwardedHeaders, trace)
      .then((result) => (filter ? filter.select(result, responseKey) : result));
  }
}

/**
 * UTF-8 size of a result. Every subscriber of a group is handed the same string one after
 * the other, so remembering the last one measures it once per group, not once per client.
 */
let lastJson = '';
let lastBytes = 0;
function byteLength(json: string): number {
  if (json !== lastJson) {
    lastJson = json;
    lastBytes = Buffer.byteLength(json);
  }
  return lastBytes;
}

/** A subscription the reloaded supergraph no longer serves as it was. */
function schemaChanged(reason: string): GraphQLError {
  return new GraphQLError(
    `The schema changed and this subscription is no longer valid: ${reason}`,
    { extensions: { code: 'SCHEMA_CHANGED' } },
  );
}
