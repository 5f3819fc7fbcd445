import {
  Kind,
  parse,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** The events graph's fetch for one operation: where its root field goes and what it selects. */
interface EventFetchShape {
  readonly responseKey: string;
  readonly selectionSet: SelectionSetNode | undefined;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
}

/** One per subscription operation the router plans; bounded all the same. */
const MAX_CACHED = 1000;
const shapes = new Map<string, EventFetchShape>();

/**
 * The answer to the events graph's fetch for one event: the event's fields as the fetch
 * selects them, each under its alias (`m: id` gets the event's `id` as `m`), under the root
 * field's response key. The event holds an entity's key fields by their names; the query
 * planner may ask for them under aliases when the client's operation aliases them.
 *
 * @param query the fetch's operation, from the query planner
 */
export function eventFetchData(
  query: string,
  event: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const shape = shapeOf(query);
  return { [shape.responseKey]: select(event, shape.selectionSet, shape.fragments) };
}

function shapeOf(query: string): EventFetchShape {
  let shape = shapes.get(query);
  if (shape) return shape;
  const document = parse(query, { noLocation: true });
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const root = operation?.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
  if (!root) throw new Error(`The events graph's fetch selects no field: ${query}`);
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((fragment) => [fragment.name.value, fragment]),
  );
  shape = {
    responseKey: (root.alias ?? root.name).value,
    selectionSet: root.selectionSet,
    fragments,
  };
  if (shapes.size >= MAX_CACHED) shapes.delete(shapes.keys().next().value!);
  shapes.set(query, shape);
  return shape;
}

function select(
  value: unknown,
  selectionSet: SelectionSetNode | undefined,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): unknown {
  if (!selectionSet || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => select(item, selectionSet, fragments));
  const object = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const visit = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const found = object[selection.name.value];
        if (found === undefined) continue;
        const key = (selection.alias ?? selection.name).value;
        const selected = select(found, selection.selectionSet, fragments);
        // The same field selected twice (say, once in a fragment) gets both selections.
        const earlier = out[key];
        out[key] =
          isPlainObject(earlier) && isPlainObject(selected)
            ? { ...earlier, ...selected }
            : selected;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        // The executor applies type conditions to what it gets; the event has one type.
        visit(selection.selectionSet);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment) visit(fragment.selectionSet);
      }
    }
  };
  visit(selectionSet);
  return out;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
