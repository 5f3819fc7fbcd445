/**
 * Our directives as a Federation 2 spec: an events graph links this URL and marks the
 * directives `@composeDirective`, so any composer copies their definitions and applications
 * into the supergraph, and the router reads them there. Nothing is ever fetched from the URL.
 */
import { SchemaError } from '../errors.js';
import { FilterShapeError, readFilterCondition, type FilterCondition } from './filter-condition.js';

/**
 * The URL an events graph links, e.g.
 * `@link(url: EVENTS_SPEC_URL, import: ["@eventsSubscribe", "@eventsFilter"])`.
 */
export const EVENTS_SPEC_URL = 'https://edfs.dev/events/v1.0';
/** The URL without its version: what identifies the spec in a `@link`. */
export const EVENTS_SPEC_IDENTITY = 'https://edfs.dev/events';
/** The major version this router reads; a later minor version only adds. */
export const EVENTS_SPEC_MAJOR = 1;

/** Why one argument's value cannot be used; `readEventsSubscribe` names the field. */
class ArgumentValueError extends Error {
  override readonly name = 'ArgumentValueError';
}

/** Reads one argument's value (`undefined` when it is absent), or throws ArgumentValueError. */
type ArgumentReader<T> = (value: unknown) => T;

const optionalString: ArgumentReader<string | undefined> = (value) => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new ArgumentValueError(`must be a string, not ${String(value)}`);
  return value;
};

const requiredString: ArgumentReader<string> = (value) => {
  const text = optionalString(value);
  if (!text) throw new ArgumentValueError('is required');
  return text;
};

function oneOf<const V extends string>(values: readonly V[], fallback: V): ArgumentReader<V> {
  return (value) => {
    if (value === undefined || value === null) return fallback;
    if (values.includes(value as V)) return value as V;
    throw new ArgumentValueError(`must be ${values.join(' or ')}, not ${String(value)}`);
  };
}

/** The id of the provider (broker) in the config that carries the field's subjects. */
const providerId = (value: unknown): string => optionalString(value) ?? 'default';

/** The arguments of `@eventsSubscribe` and how each is read: a new argument is one line here. */
const eventsSubscribeArguments = {
  /** The subject template, e.g. `room.{{ args.roomID }}.messages`. */
  topic: requiredString,
  /** The JetStream stream that captures the field's subjects; absent for core NATS. */
  stream: optionalString,
  /** What a new subscriber gets first: nothing, or the latest event already stored. */
  initial: oneOf(['NONE', 'LAST'], 'NONE'),
  providerId,
} satisfies Record<string, ArgumentReader<unknown>>;

/** The arguments of `@eventsPublish` and of `@eventsRequest`: one subject on one provider. */
const eventsTargetArguments = {
  /** The subject template, e.g. `room.{{ args.roomID }}.messages`. */
  topic: requiredString,
  providerId,
} satisfies Record<string, ArgumentReader<unknown>>;

/** The values of arguments read by `readers`, defaults applied. */
type ReadArguments<Readers extends Record<string, ArgumentReader<unknown>>> = {
  readonly [Name in keyof Readers]: ReturnType<Readers[Name]>;
};

/** The arguments of one `@eventsSubscribe`, defaults applied. */
export type EventsSubscribe = ReadArguments<typeof eventsSubscribeArguments>;

/** The arguments of one `@eventsPublish` or `@eventsRequest`, defaults applied. */
export type EventsTarget = ReadArguments<typeof eventsTargetArguments>;

/** Our directives, by their name in the spec, and the root type each belongs on. */
export const EVENTS_DIRECTIVES = {
  eventsSubscribe: 'subscription',
  eventsPublish: 'mutation',
  eventsRequest: 'query',
} as const;

export type EventsDirective = keyof typeof EVENTS_DIRECTIVES;

/** Reads each argument with its reader; SchemaError names the field and the argument. */
function readArguments<Readers extends Record<string, ArgumentReader<unknown>>>(
  readers: Readers,
  values: Readonly<Record<string, unknown>>,
  where: string,
  graph: string,
): ReadArguments<Readers> {
  return Object.fromEntries(
    Object.entries(readers).map(([name, reader]) => {
      try {
        return [name, reader(values[name])];
      } catch (cause) {
        if (!(cause instanceof ArgumentValueError)) throw cause;
        throw new SchemaError(`${where}: "${name}" ${cause.message}`, graph, { cause });
      }
    }),
  ) as ReadArguments<Readers>;
}

/**
 * Reads one application of `@eventsSubscribe` from its argument values, however they were
 * found (a subgraph SDL or a supergraph), and checks what one argument alone cannot.
 *
 * @param where names the field in errors, e.g. `Subscription.messageAdded: @eventsSubscribe`
 * @param graph the events graph's name, for SchemaError
 */
export function readEventsSubscribe(
  values: Readonly<Record<string, unknown>>,
  where: string,
  graph: string,
): EventsSubscribe {
  const read = readArguments(eventsSubscribeArguments, values, where, graph);
  if (read.initial === 'LAST' && !read.stream) {
    throw new SchemaError(
      `${where}: "initial: LAST" needs a "stream" to read the last event from`,
      graph,
    );
  }
  return read;
}

/**
 * Reads one application of `@eventsFilter(condition:)`: its shape only (one operator per
 * condition, field paths, non-empty value lists); binding the field checks the rest.
 *
 * @param where names the field in errors, e.g. `Subscription.messageAdded: @eventsFilter`
 */
export function readEventsFilter(
  values: Readonly<Record<string, unknown>>,
  where: string,
  graph: string,
): FilterCondition {
  try {
    return readFilterCondition(values['condition']);
  } catch (cause) {
    if (!(cause instanceof FilterShapeError)) throw cause;
    throw new SchemaError(`${where}: ${cause.message}`, graph, { cause });
  }
}

/** Reads one application of `@eventsPublish` or `@eventsRequest`, as `readEventsSubscribe` does. */
export function readEventsTarget(
  values: Readonly<Record<string, unknown>>,
  where: string,
  graph: string,
): EventsTarget {
  return readArguments(eventsTargetArguments, values, where, graph);
}
