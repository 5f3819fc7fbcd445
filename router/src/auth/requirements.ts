import type { Schema } from '@apollo/federation-internals';
import type { Caller } from './caller.js';

/**
 * One authorization requirement from the supergraph: `@authenticated`, or one
 * `@requiresScopes(scopes: [[...]])` (any inner list held in full). A field or type may
 * carry several (its own and its type's); a caller may see it when it meets all of them.
 */
export type Requirement =
  | { readonly kind: 'authenticated'; readonly id: string }
  | {
      readonly kind: 'scopes';
      readonly id: string;
      readonly anyOf: readonly (readonly string[])[];
    };

/**
 * What the supergraph's `@authenticated` and `@requiresScopes` ask for, by schema
 * coordinate (`User` for a type, `User.email` for a field). The API schema drops the
 * directives (they are `for: SECURITY` features), so they are read from the supergraph.
 */
export interface AuthorizationRules {
  /** Whether the supergraph has any requirement at all: without one nothing is walked. */
  readonly empty: boolean;
  /** Requirements on a type (object, interface, scalar, enum), by type name. */
  readonly types: ReadonlyMap<string, readonly Requirement[]>;
  /** Requirements on a field, by `Type.field`. */
  readonly fields: ReadonlyMap<string, readonly Requirement[]>;
}

/** A type or field of federation's model, as far as its directives go. */
interface Directed {
  appliedDirectivesOf(name: string): readonly { arguments(): Record<string, unknown> }[];
}

const AUTHENTICATED = 'https://specs.apollo.dev/authenticated';
const REQUIRES_SCOPES = 'https://specs.apollo.dev/requiresScopes';

export const NO_RULES: AuthorizationRules = {
  empty: true,
  types: new Map(),
  fields: new Map(),
};

/** Reads the requirements from a supergraph schema (federation's model). */
export function readAuthorizationRules(schema: Schema): AuthorizationRules {
  const features = schema.coreFeatures;
  // A `@link(..., as:)` or `import:` may rename the directives: ask the link for their names.
  const authenticated = features
    ?.getByIdentity(AUTHENTICATED)
    ?.directiveNameInSchema('authenticated');
  const requiresScopes = features
    ?.getByIdentity(REQUIRES_SCOPES)
    ?.directiveNameInSchema('requiresScopes');
  if (!authenticated && !requiresScopes) return NO_RULES;

  // One object per distinct requirement, so a caller's answer can be kept per requirement.
  const known = new Map<string, Requirement>();
  const intern = (requirement: Requirement): Requirement => {
    const found = known.get(requirement.id);
    if (found) return found;
    known.set(requirement.id, requirement);
    return requirement;
  };
  const requirementsOf = (element: Directed): Requirement[] => {
    const found: Requirement[] = [];
    if (authenticated && element.appliedDirectivesOf(authenticated).length > 0) {
      found.push(intern({ kind: 'authenticated', id: '@authenticated' }));
    }
    if (requiresScopes) {
      for (const directive of element.appliedDirectivesOf(requiresScopes)) {
        const anyOf = (directive.arguments()['scopes'] as string[][]).map((all) => [...all].sort());
        found.push(
          intern({ kind: 'scopes', id: `@requiresScopes${JSON.stringify(anyOf)}`, anyOf }),
        );
      }
    }
    return found;
  };

  const types = new Map<string, readonly Requirement[]>();
  const fields = new Map<string, readonly Requirement[]>();
  for (const type of schema.types()) {
    const own = requirementsOf(type);
    if (own.length > 0) types.set(type.name, own);
    if (type.kind !== 'ObjectType' && type.kind !== 'InterfaceType') continue;
    for (const field of type.fields()) {
      const required = requirementsOf(field);
      if (required.length > 0) fields.set(field.coordinate, required);
    }
  }
  return { empty: types.size === 0 && fields.size === 0, types, fields };
}

/** Whether a caller meets one requirement. */
export function isSatisfied(requirement: Requirement, caller: Caller): boolean {
  if (requirement.kind === 'authenticated') return caller.claims !== undefined;
  return requirement.anyOf.some((all) => all.every((scope) => caller.scopes.has(scope)));
}
