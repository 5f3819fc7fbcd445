import {
  Kind,
  print,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';

/**
 * The text of what decides an operation's results: the selected operation without its name,
 * its variable definitions sorted, and only the fragments it uses, sorted, all printed
 * without comments or extra whitespace. Operations that differ only in those ways share a
 * fan-out group. Aliases, arguments and directives stay: they change the result.
 *
 * @param document a validated document (so the operation and its fragments exist)
 */
export function normalizedOperation(document: DocumentNode, operationName?: string): string {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation =
    operations.find((o) => operationName === undefined || o.name?.value === operationName) ??
    operations[0];
  if (!operation) return print(document);
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((fragment) => [fragment.name.value, fragment]),
  );
  const used = new Set<string>();
  const pending: { selectionSet: OperationDefinitionNode['selectionSet'] }[] = [operation];
  while (pending.length > 0) {
    visit(pending.pop()!.selectionSet, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        const fragment = fragments.get(name);
        if (used.has(name) || !fragment) return;
        used.add(name);
        pending.push(fragment);
      },
    });
  }
  const variableDefinitions = [...(operation.variableDefinitions ?? [])].sort((a, b) =>
    compare(a.variable.name.value, b.variable.name.value),
  );
  const { name: _name, ...anonymous } = operation;
  const definitions = [
    { ...anonymous, variableDefinitions },
    ...[...used].sort(compare).map((name) => fragments.get(name)!),
  ];
  return print({ kind: Kind.DOCUMENT, definitions });
}

/**
 * Variables as JSON with every object's keys sorted (and `undefined` left out, as JSON does),
 * so that the order a client wrote them in does not split a fan-out group.
 */
export function normalizedVariables(variables: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(variables, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => compare(a, b)))
      : value,
  );
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
