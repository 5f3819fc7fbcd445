import { Kind, valueFromASTUntyped, type DocumentNode, type DirectiveNode } from 'graphql';
import { SchemaError } from '../errors.js';

/** What the router needs from the events graph SDL; read before composition drops it. */
export interface EventsGraph {
  /** What `@eventsSubscribe` says of each `Subscription` field that has it. */
  bindings: ReadonlyMap<string, EventsSubscribe>;
  /** The `@key` field sets of each entity type, as written in the events graph. */
  keys: ReadonlyMap<string, readonly string[]>;
}

/** The arguments of one `@eventsSubscribe`. */
export interface EventsSubscribe {
  /** The subject template, e.g. `room.{{ args.roomID }}.messages`. */
  readonly topic: string;
  /** The JetStream stream that captures the field's subjects; absent for core NATS. */
  readonly stream?: string;
  /** What a new subscriber gets first: nothing, or the latest event already stored. */
  readonly initial: 'NONE' | 'LAST';
  /** The id of the provider (broker) in the config that carries the field's subjects. */
  readonly providerId: string;
}

export function readEventsGraph(sdl: DocumentNode, name: string): EventsGraph {
  const bindings = new Map<string, EventsSubscribe>();
  const keys = new Map<string, string[]>();
  for (const definition of sdl.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION
    ) {
      continue;
    }
    const typeName = definition.name.value;
    for (const key of definition.directives ?? []) {
      if (key.name.value !== 'key') continue;
      const fields = stringArgument(key, 'fields');
      if (fields === undefined) throw new SchemaError(`${typeName}: @key needs "fields"`, name);
      keys.set(typeName, [...(keys.get(typeName) ?? []), fields]);
    }
    if (typeName !== 'Subscription') continue;
    for (const field of definition.fields ?? []) {
      const directive = field.directives?.find((d) => d.name.value === 'eventsSubscribe');
      if (!directive) continue;
      const where = `Subscription.${field.name.value}: @eventsSubscribe`;
      const topic = stringArgument(directive, 'topic');
      if (!topic) throw new SchemaError(`${where} needs "topic"`, name);
      const stream = stringArgument(directive, 'stream');
      const initial = stringArgument(directive, 'initial') ?? 'NONE';
      if (initial !== 'NONE' && initial !== 'LAST') {
        throw new SchemaError(`${where}: "initial" must be NONE or LAST, not ${initial}`, name);
      }
      if (initial === 'LAST' && !stream) {
        throw new SchemaError(
          `${where}: "initial: LAST" needs a "stream" to read the last event from`,
          name,
        );
      }
      const providerId = stringArgument(directive, 'providerId') ?? 'default';
      bindings.set(field.name.value, {
        topic,
        initial,
        providerId,
        ...(stream ? { stream } : {}),
      });
    }
  }
  if (bindings.size === 0) {
    throw new SchemaError('no Subscription field has @eventsSubscribe(topic: …)', name);
  }
  return { bindings, keys };
}

function stringArgument(directive: DirectiveNode, name: string): string | undefined {
  const argument = directive.arguments?.find((a) => a.name.value === name);
  const value: unknown = argument && valueFromASTUntyped(argument.value);
  return typeof value === 'string' ? value : undefined;
}
