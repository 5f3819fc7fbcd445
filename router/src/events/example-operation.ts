import {
  getNamedType,
  isLeafType,
  isNonNullType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import type { EventField } from './event-field.js';
import { NO_RULES, type AuthorizationRules } from '../auth/requirements.js';

/** An example value for a required scalar argument, or `undefined` when none fits. */
function exampleArgument(arg: GraphQLArgument): string | number | boolean | undefined {
  switch (getNamedType(arg.type).name) {
    case 'ID':
    case 'String':
      return '123';
    case 'Int':
      return 1;
    case 'Float':
      return 1.5;
    case 'Boolean':
      return true;
    default:
      return undefined;
  }
}

/**
 * Leaf fields without required arguments, and one level of the object fields beneath;
 * none that needs a token, so an anonymous first run gets no UNAUTHORIZED_FIELD_OR_TYPE.
 */
function selection(
  type: GraphQLObjectType,
  indent: string,
  depth: number,
  rules: AuthorizationRules,
): string[] {
  const lines: string[] = [];
  for (const field of Object.values(type.getFields())) {
    if (field.args.some((arg) => isNonNullType(arg.type))) continue;
    const named = getNamedType(field.type);
    if (rules.fields.has(`${type.name}.${field.name}`) || rules.types.has(named.name)) continue;
    if (isLeafType(named)) lines.push(`${indent}${field.name}`);
    else if (isObjectType(named) && depth > 0) {
      const inner = selection(named, `${indent}  `, depth - 1, rules);
      if (inner.length > 0) lines.push(`${indent}${field.name} {`, ...inner, `${indent}}`);
    }
  }
  return lines;
}

/**
 * The operation GraphiQL opens with: the first event-bound subscription of the schema,
 * with example arguments and a comment that says how to publish an event for it, so a
 * first run shows a result without reading any docs. `undefined` if there is none to make.
 */
export function exampleOperation(
  schema: GraphQLSchema,
  eventFields: ReadonlyMap<string, EventField>,
  rules: AuthorizationRules = NO_RULES,
): string | undefined {
  const fields = schema.getSubscriptionType()?.getFields() ?? {};
  for (const binding of eventFields.values()) {
    const field = fields[binding.name];
    const returned = field && getNamedType(field.type);
    if (!field || !isObjectType(returned)) continue;
    if (rules.fields.has(`${schema.getSubscriptionType()!.name}.${field.name}`)) continue;
    if (rules.types.has(returned.name)) continue;
    const args: Record<string, unknown> = {};
    for (const arg of field.args) {
      const value = exampleArgument(arg);
      if (value !== undefined) args[arg.name] = value;
    }
    if (field.args.some((arg) => isNonNullType(arg.type) && !(arg.name in args))) continue;
    const subject = binding.topic.render({ args });
    const [key] = binding.keys.get(returned.name) ?? [];
    if (typeof subject !== 'string' || !key || !/^\w+( \w+)*$/.test(key)) continue;
    const event = JSON.stringify({
      __typename: returned.name,
      ...Object.fromEntries(key.split(' ').map((name) => [name, '1'])),
    });
    const argText = Object.entries(args)
      .map(([name, value]) => `${name}: ${JSON.stringify(value)}`)
      .join(', ');
    return [
      '# Run this subscription, then publish the key of what changed, e.g.',
      `#   nats pub ${subject} '${event}'`,
      `#   pnpm pub ${subject} '${event}'    (in the example stack)`,
      'subscription {',
      `  ${field.name}${argText ? `(${argText})` : ''} {`,
      ...selection(returned, '    ', 1, rules),
      '  }',
      '}',
      '',
    ].join('\n');
  }
  return undefined;
}
