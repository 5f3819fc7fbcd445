import {
  ConsumerEvents,
  DeliverPolicy,
  StorageType,
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type MsgRequest,
  type StreamInfo,
} from 'nats';
import { ProviderError, StreamConfigError, StreamPositionGoneError } from '../errors.js';
import type {
  ProviderSubscription,
  ReplayRequest,
  StoredMessage,
  SubscriptionHandlers,
} from './provider.js';
import { untilAnswered, type Retrying } from './jetstream-retry.js';
import type { StreamHeads } from './stream-heads.js';

/** A stream the router creates if it is missing (`nats.streams` in the config). */
export interface StreamDeclaration {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly maxAgeSeconds: number;
  readonly maxMessagesPerSubject: number;
  readonly storage: 'file' | 'memory';
}

/** A field that reads `stream`: every subject matching `pattern` must be captured by it. */
export interface StreamRequirement {
  readonly field: string;
  readonly stream: string;
  /** The field's subjects, one `*` per template value: `room.*.messages`. */
  readonly pattern: string;
}

/** Where a stream stands: the sequence its next message gets, and which stream it is. */
export interface StreamHead {
  readonly next: number;
  /** When the stream was made: a stream deleted and made anew under the same name differs. */
  readonly created: string;
}

/**
 * Live messages of one subject from a stream, through an ordered consumer that starts at
 * the stream's next sequence, and says where (`onReady`): a subscriber starting from the
 * subject's last stored message can then tell which live ones came after it. nats.js
 * recreates the consumer after a reconnect or a server restart from the sequence after the
 * last one it delivered, or from the start if it delivered none, so no stored message is
 * skipped. A stream deleted (and perhaps made anew) ends the subscription (`onError`).
 */
export function subscribeStream(
  js: JetStreamClient,
  heads: StreamHeads<StreamHead>,
  stream: string,
  subject: string,
  handlers: SubscriptionHandlers,
  retrying: Retrying,
): ProviderSubscription {
  let stopped = false;
  let stop: (() => void) | undefined;
  const start = async (): Promise<void> => {
    // A start sequence, not 'New': an ordered consumer recreated before it delivered anything
    // starts as it was first asked to, and 'New' would then skip what was stored meanwhile
    // (while nats-server restarted, say). Nothing is stored after the stream's head, so the
    // server has nothing to look through for the subject's next message.
    const { next: from, created } = await heads.next(stream);
    /** The last sequence this subscription has seen of the stream (or was there at its start). */
    let seen = from - 1;
    const consumer = await js.consumers.get(stream, {
      filterSubjects: subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
      inactive_threshold: INACTIVE_THRESHOLD_MS,
    });
    const messages = await consumer.consume({
      max_messages: LIVE_BATCH,
      callback: (message) => {
        seen = message.seq;
        if (!stopped) handlers.onMessage(message.data, message.seq);
      },
    });
    stop = () => void release(messages, consumer);
    if (stopped) return stop();
    handlers.onReady?.(from);
    watchStream(messages, () => replaced(heads, stream, { created, seen }))
      .then((gone) => {
        if (!gone || stopped) return;
        stopped = true;
        stop?.();
        handlers.onError(
          new ProviderError(
            `stream "${stream}" was deleted, or deleted and made anew`,
            'nats',
            subject,
          ),
        );
      })
      // The hub's onError has logged the end before it ends the subscribers; a failure there
      // must not end the process as an unhandled rejection.
      .catch(() => undefined);
  };
  // Asked again while JetStream does not answer; it starts where the stream stands then.
  void untilAnswered(start, retrying, () => stopped).catch((cause: unknown) => {
    if (!stopped)
      handlers.onError(
        new ProviderError(`cannot read stream "${stream}"`, 'nats', subject, { cause }),
      );
  });
  return {
    unsubscribe() {
      stopped = true;
      stop?.();
    },
  };
}

/**
 * Resolves `true` once the consumer's stream is found gone or replaced, `false` when the
 * consumer is closed first. A deleted stream takes its consumers with it, at once, and
 * nats.js only notices later (two missed heartbeats, 30 s or more). It then makes the ordered
 * consumer again after the last sequence it delivered: on a stream made anew, whose
 * sequences start over at 1, that skips as many of its messages, and the hub would drop the
 * rest as already delivered. So each status that says the consumer or its stream is
 * missing is checked against the stream itself.
 */
async function watchStream(
  messages: ConsumerMessages,
  isReplaced: () => Promise<boolean>,
): Promise<boolean> {
  for await (const { type } of await messages.status()) {
    if (MISSING.has(type) && (await isReplaced())) return true;
  }
  return false;
}

/** Consumer statuses that may mean its stream was deleted. */
const MISSING = new Set<string>([
  ConsumerEvents.ConsumerDeleted,
  ConsumerEvents.ConsumerNotFound,
  ConsumerEvents.StreamNotFound,
  ConsumerEvents.HeartbeatsMissed,
]);

/**
 * Whether `stream` is gone, or another stream under its name: made at another time than
 * `created`, and behind the sequence this subscription has `seen` (a stream's sequences never
 * go back; a server may rewrite `created` on a healthy one). Said twice, a second apart, so a
 * server still recovering its streams, or a deletion not done yet, is not taken for an
 * answer. `false` while JetStream does not answer (a restart: the stream is still there).
 */
async function replaced(
  heads: StreamHeads<StreamHead>,
  stream: string,
  ours: { readonly created: string; readonly seen: number },
): Promise<boolean> {
  const check = async (): Promise<boolean> => {
    try {
      const head = await heads.next(stream);
      return head.created !== ours.created && head.next - 1 < ours.seen;
    } catch (error) {
      return isStreamNotFound(error);
    }
  };
  if (!(await check())) return false;
  await new Promise((resolve) => setTimeout(resolve, RECHECK_MS));
  return check();
}

/** How long a stream found gone or replaced is given before that is taken as the answer. */
const RECHECK_MS = 1000;

/** JetStream's own code for a stream that does not exist. */
function isStreamNotFound(error: unknown): boolean {
  return (error as { api_error?: { err_code?: unknown } }).api_error?.err_code === 10059;
}

/**
 * The messages stored on a subject after a position (or its last one), up to the last one
 * stored when the replay starts; later ones are the live subscription's. Its start is asked
 * again while JetStream does not answer, as a live subscription's is.
 */
export async function* replayStream(
  js: JetStreamClient,
  jsm: () => Promise<JetStreamManager>,
  request: ReplayRequest,
  retrying: Retrying,
): AsyncGenerator<StoredMessage> {
  const replay = await untilAnswered(() => startReplay(js, jsm, request), retrying);
  if (!('consumer' in replay)) return yield* replay.stored;
  const { consumer, messages, until } = replay;
  try {
    for await (const message of messages) {
      yield { data: message.data, position: message.seq };
      if (message.seq >= until) return;
    }
  } finally {
    await release(messages, consumer);
  }
}

/** A replay's start: what it gives (none, or the subject's last), or a consumer reading up to `until`. */
type ReplayStart =
  | { readonly stored: readonly StoredMessage[] }
  | { readonly consumer: Consumer; readonly messages: ConsumerMessages; readonly until: number };

async function startReplay(
  js: JetStreamClient,
  jsm: () => Promise<JetStreamManager>,
  { stream, subject, after }: ReplayRequest,
): Promise<ReplayStart> {
  const manager = await jsm();
  const last = await lastOnSubject(manager, stream, subject);
  if (after === 'last') return { stored: last ? [{ data: last.data, position: last.seq }] : [] };
  if (last?.seq === after) return { stored: [] }; // the subject's last event: nothing to replay
  // A position the stream has not reached is not one it gave out: the stream was deleted
  // and made anew since (a NATS store started afresh, say), and its events up to there are
  // others, which the live subscription would skip as delivered.
  if (after > (await manager.streams.info(stream)).state.last_seq) {
    throw new StreamPositionGoneError(stream, subject, after);
  }
  if (last && last.seq <= after) return { stored: [] }; // nothing after it on the subject
  // The stream removes a subject's oldest messages first (its age, maxMessagesPerSubject):
  // while the message at the position is stored, so is every later one of the subject. Gone,
  // later ones may be gone too, even all of them.
  if (!(await stored(manager, stream, { seq: after }))) {
    throw new StreamPositionGoneError(stream, subject, after);
  }
  if (!last) return { stored: [] }; // the cursor's event is another subject's, and this one has none
  const consumer = await js.consumers.get(stream, {
    filterSubjects: subject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: after + 1,
    inactive_threshold: INACTIVE_THRESHOLD_MS,
  });
  const messages = await consumer.consume({ max_messages: 256 });
  return { consumer, messages, until: last.seq };
}

/**
 * Messages a live consumer asks for at once (nats.js's default is 100). A stream keeps only
 * `maxMessagesPerSubject` of a subject: in a burst, what the consumer has not pulled yet when
 * newer messages push it out is gone before the router sees it, and the server says nothing
 * of it. Nor does the `pending` count each delivered message carries tell: the server
 * updates it after it serves messages in a burst, and a probe saw gaps behind messages with
 * 0 pending (a notice built on it was tried and reverted). Pulling more at a time makes the
 * loss rarer, not impossible: with 2,000 events published at once to one room, 1,125
 * arrived pulling 100 at a time, 1,785 to 2,000 over three runs pulling 1,000, and 1,862 to
 * 2,000 pulling 10,000 (README, what delivery promises).
 */
const LIVE_BATCH = 1000;

/**
 * How long the server keeps a consumer nobody reads: a router that stops without closing
 * (killed) leaves its consumers behind only this long; one that stops a subscription or ends
 * a replay deletes its consumer at once (`release`). nats.js 2.29 drops this option for an
 * ordered consumer that starts at a sequence (and gives 5 minutes), and keeps recreating
 * one stopped during a recreation: patches/nats@2.29.3.patch mends both.
 */
const INACTIVE_THRESHOLD_MS = 30_000;

/** Stops reading and deletes the consumer at once: ordered consumers outlive `close()`. */
async function release(messages: ConsumerMessages, consumer: Consumer): Promise<void> {
  await messages.close().catch(() => undefined);
  await consumer.delete().catch(() => undefined); // gone already, or the connection is
}

function lastOnSubject(jsm: JetStreamManager, stream: string, subject: string) {
  return stored(jsm, stream, { last_by_subj: subject });
}

/** The stored message `query` names, if there is one. */
async function stored(jsm: JetStreamManager, stream: string, query: MsgRequest) {
  try {
    return await jsm.streams.getMessage(stream, query);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Creates the declared streams that are missing, and checks that every stream a field
 * reads exists and captures the field's subjects, so a mistake stops start-up with one
 * line that says how to fix it instead of subscriptions that never receive anything.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  declared: readonly StreamDeclaration[],
  required: readonly StreamRequirement[],
): Promise<void> {
  const infos = new Map<string, StreamInfo | undefined>();
  const info = async (name: string): Promise<StreamInfo | undefined> => {
    if (!infos.has(name)) infos.set(name, await streamInfo(jsm, name));
    return infos.get(name);
  };
  for (const stream of declared) {
    const existing = await info(stream.name);
    if (!existing) {
      infos.set(
        stream.name,
        await jsm.streams.add({
          name: stream.name,
          subjects: [...stream.subjects],
          storage: stream.storage === 'file' ? StorageType.File : StorageType.Memory,
          max_age: stream.maxAgeSeconds * 1_000_000_000,
          max_msgs_per_subject: stream.maxMessagesPerSubject,
        }),
      );
      continue;
    }
    for (const subject of stream.subjects) {
      if (!existing.config.subjects.some((captured) => covers(captured, subject))) {
        throw new StreamConfigError(
          `it exists on NATS with subjects ${existing.config.subjects.join(', ')}, which do not capture ${subject} as the config declares; add the subject to the stream (nats stream edit ${stream.name}) or change the config`,
          stream.name,
        );
      }
    }
  }
  for (const { field, stream, pattern } of required) {
    const existing = await info(stream);
    if (!existing) {
      throw new StreamConfigError(
        `${field} reads it, but it does not exist on NATS; declare it under nats.streams in the router config, or create it: nats stream add ${stream} --subjects '${pattern}'`,
        stream,
      );
    }
    if (!existing.config.subjects.some((captured) => covers(captured, pattern))) {
      throw new StreamConfigError(
        `${field} publishes on ${pattern}, but the stream captures only ${existing.config.subjects.join(', ')}; add ${pattern} to its subjects or bind the field to another stream`,
        stream,
      );
    }
  }
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === '404' || (typeof message === 'string' && /not found/i.test(message));
}

/**
 * Whether NATS subject filter `filter` matches every subject `subject` can stand for, where
 * `subject` may itself hold `*` and `>` wildcards: `room.*.messages` covers `room.*.messages`.
 */
export function covers(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return i < s.length;
    if (i >= s.length) return false;
    if (s[i] === '>') return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}
