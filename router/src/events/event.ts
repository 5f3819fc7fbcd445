import {
  GraphQLError,
  Kind,
  getNamedType,
  isInterfaceType,
  isLeafType,
  isObjectType,
  parse,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { excerpt } from '../excerpt.js';

/** The keys of what changed, as published: `{"__typename":"Message","id":"1"}`. */
export interface EntityEvent {
  __typename: string;
  [field: string]: unknown;
}

/** Checks one published payload against what a subscription field can return. */
export type EventValidator = (payload: unknown) => EntityEvent | GraphQLError;

/** A key field set as a tree: `id org { id }` is `{ id: true, org: { id: true } }`. */
type KeyShape = { readonly [field: string]: KeyShape | true };

/**
 * Builds the validator for a field from its possible concrete types and their `@key` field
 * sets in the events graph. A valid event is reduced to `__typename` and the first key it
 * carries in full, so extra fields never reach a subgraph. With the API `schema`, each key
 * value is serialized by its field's scalar, as a result would be: `"id": 2` becomes "2".
 */
export function createEventValidator(
  field: string,
  keysByType: ReadonlyMap<string, readonly string[]>,
  schema?: GraphQLSchema,
): EventValidator {
  const shapes = new Map([...keysByType].map(([type, keys]) => [type, keys.map(keyShape)]));
  const typeList = [...shapes.keys()].join(', ');
  return (payload) => {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      return invalidEvent('the event is not a JSON object');
    }
    const event = payload as Record<string, unknown>;
    const typename = event['__typename'];
    const keys = typeof typename === 'string' ? shapes.get(typename) : undefined;
    if (keys === undefined) {
      return invalidEvent(
        `"__typename" must be a type that ${field} can return (${typeList}); got ${shown(typename)}`,
      );
    }
    for (const shape of keys) {
      const picked = pick(event, shape, schema?.getType(typename as string));
      if (typeof picked === 'string') return invalidEvent(picked);
      if (picked) return { ...picked, __typename: typename as string };
    }
    const wanted = keysByType
      .get(typename as string)!
      .map((k) => `"${k}"`)
      .join(' or ');
    return invalidEvent(`a ${String(typename)} event must carry every field of its key ${wanted}`);
  };
}

/**
 * What a publisher sent as `__typename`, for the error: a string or number quoted, an object
 * or array only named (one nested thousands deep would overflow the stack of `JSON.stringify`,
 * and the broker client's read loop with it).
 */
function shown(typename: unknown): string {
  if (typename === undefined) return 'nothing';
  if (Array.isArray(typename)) return 'an array';
  if (typeof typename === 'object' && typename !== null) return 'an object';
  return excerpt(JSON.stringify(typename));
}

/**
 * Parses the bytes of one broker message as JSON. Bytes that are not UTF-8 are refused
 * rather than replaced with U+FFFD, which would turn different keys into the same one.
 */
export function parseEventPayload(data: Uint8Array): unknown {
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return invalidEvent('the event is not UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    return invalidEvent('the event is not valid JSON');
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function invalidEvent(reason: string): GraphQLError {
  return new GraphQLError(`Invalid event: ${reason}.`, { extensions: { code: 'INVALID_EVENT' } });
}

/** The fields of a `@key` field set, top level only: `id org { id }` is `["id", "org"]`. */
export function keyFields(fields: string): string[] {
  return Object.keys(keyShape(fields));
}

function keyShape(fields: string): KeyShape {
  const toShape = (set: SelectionSetNode): KeyShape =>
    Object.fromEntries(
      set.selections.map((s) => {
        if (s.kind !== Kind.FIELD) throw new Error(`unsupported @key selection in "${fields}"`);
        return [s.name.value, s.selectionSet ? toShape(s.selectionSet) : true];
      }),
    );
  const operation = parse(`{${fields}}`).definitions[0];
  if (operation?.kind !== Kind.OPERATION_DEFINITION) throw new Error(`bad @key "${fields}"`);
  return toShape(operation.selectionSet);
}

/**
 * The key `shape` picks from `value`: `undefined` if it does not carry the key in full, a
 * reason if what it carries cannot be a key at all.
 */
function pick(
  value: Record<string, unknown>,
  shape: KeyShape,
  type: GraphQLNamedType | undefined,
): Record<string, unknown> | string | undefined {
  const picked: Record<string, unknown> = {};
  for (const [name, inner] of Object.entries(shape)) {
    const field = value[name];
    if (field === undefined || field === null) return undefined;
    // JSON.parse rounds such a number: it would name another entity than the one published.
    if (typeof field === 'number' && Number.isInteger(field) && !Number.isSafeInteger(field)) {
      return `"${name}" is a number past 2^53 - 1, which JSON parsers round: send it as a string`;
    }
    const fieldType =
      isObjectType(type) || isInterfaceType(type)
        ? getNamedType(type.getFields()[name]?.type)
        : undefined;
    if (inner === true) {
      if (typeof field === 'object') return undefined;
      if (!isLeafType(fieldType)) {
        picked[name] = field;
        continue;
      }
      try {
        picked[name] = fieldType.serialize(field);
      } catch {
        return undefined; // not a value of the key field's type
      }
    } else {
      if (typeof field !== 'object' || Array.isArray(field)) return undefined;
      const nested = pick(field as Record<string, unknown>, inner, fieldType);
      if (typeof nested !== 'object') return nested;
      picked[name] = nested;
    }
  }
  return picked;
}
