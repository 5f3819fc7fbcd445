/**
 * The events graph's "fetch" answers with the event itself, whose fields are named as the
 * events graph names them; a fetch that selects one of them under an alias (a client's
 * `key: id`, or an `@eventsFilter` reading `id`) reads it under that alias. The aliases are
 * read once from the plan; each event is given them.
 */
import { Kind, parse, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { FetchNode } from '@apollo/query-planner';

/** `[alias, field]` pairs selected on the subscription field in the events graph's fetch. */
export type EventAliases = readonly (readonly [string, string])[];

/** The aliases the primary fetch of a subscription plan selects on its root field. */
export function eventAliases(primary: FetchNode): EventAliases {
  const { definitions } = parse(primary.operation);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
  }
  const operation = definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const [root] = operation?.selectionSet.selections ?? [];
  if (root?.kind !== Kind.FIELD || !root.selectionSet) return [];
  const aliasesIn = (selectionSet: SelectionSetNode): [string, string][] =>
    selectionSet.selections.flatMap((selection): [string, string][] => {
      if (selection.kind === Kind.INLINE_FRAGMENT) return aliasesIn(selection.selectionSet);
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        return fragment ? aliasesIn(fragment.selectionSet) : [];
      }
      return selection.alias ? [[selection.alias.value, selection.name.value]] : [];
    });
  return aliasesIn(root.selectionSet);
}

/** The event with each aliased field under its alias as well. */
export function withEventAliases(
  event: Readonly<Record<string, unknown>>,
  aliases: EventAliases,
): Record<string, unknown> {
  const aliased = { ...event };
  for (const [alias, field] of aliases) aliased[alias] = event[field];
  return aliased;
}
