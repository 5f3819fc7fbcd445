import { Kind, valueFromASTUntyped, type DocumentNode, type DirectiveNode } from 'graphql';
import { SchemaError } from '../errors.js';

/** What the router needs from the events graph SDL; read before composition drops it. */
export interface EventsGraph {
  /** Topic template of each `Subscription` field that has `@eventsSubscribe`. */
  topics: ReadonlyMap<string, string>;
  /** The `@key` field sets of each entity type, as written in the events graph. */
  keys: ReadonlyMap<string, readonly string[]>;
}

export function readEventsGraph(sdl: DocumentNode, name: string): EventsGraph {
  const topics = new Map<string, string>();
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
      const topic = stringArgument(directive, 'topic');
      if (!topic) {
        throw new SchemaError(
          `Subscription.${field.name.value}: @eventsSubscribe needs "topic"`,
          name,
        );
      }
      topics.set(field.name.value, topic);
    }
  }
  if (topics.size === 0) {
    throw new SchemaError('no Subscription field has @eventsSubscribe(topic: …)', name);
  }
  return { topics, keys };
}

function stringArgument(directive: DirectiveNode, name: string): string | undefined {
  const argument = directive.arguments?.find((a) => a.name.value === name);
  const value: unknown = argument && valueFromASTUntyped(argument.value);
  return typeof value === 'string' ? value : undefined;
}
