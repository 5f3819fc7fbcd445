import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/** What one operation may hold; each refusal names the limit and its value. */
export interface OperationLimits {
  /** Nested selection sets, fragments followed. @default 15 */
  maxDepth: number;
  /** Aliased fields in the whole document. @default 30 */
  maxAliases: number;
  /** Fields selected at the root of an operation, fragments on the root type included. @default 20 */
  maxRootFields: number;
  /** Directives used in the whole document. @default 50 */
  maxDirectives: number;
  /** Lexical tokens, checked while parsing, so a huge document costs little. @default 5000 */
  maxTokens: number;
}

export const DEFAULT_OPERATION_LIMITS: OperationLimits = {
  maxDepth: 15,
  maxAliases: 30,
  maxRootFields: 20,
  maxDirectives: 50,
  maxTokens: 5000,
};

/**
 * The error of a refused operation: `extensions.code` names the limit (one of
 * `OperationLimits`, or `maxSubscriptionBytes`).
 */
export function limitExceeded(
  limit: keyof OperationLimits | 'maxSubscriptionBytes',
  max: number,
): GraphQLError {
  const code = `${limit
    .replace(/^max/, 'MAX_')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase()}_EXCEEDED`;
  return new GraphQLError(`The operation is over the router's limit ${limit} (${max}).`, {
    extensions: { code, limit, max },
  });
}

/** Validation rules for the limits a parsed document can be checked against. */
export function limitRules(limits: OperationLimits): ValidationRule[] {
  return [
    (context) => aliases(context, limits.maxAliases),
    (context) => directives(context, limits.maxDirectives),
    (context) => rootFields(context, limits.maxRootFields),
    (context) => depth(context, limits.maxDepth),
  ];
}

function aliases(context: ValidationContext, max: number): ASTVisitor {
  let count = 0;
  return {
    Field(node) {
      if (node.alias && ++count === max + 1) context.reportError(limitExceeded('maxAliases', max));
    },
  };
}

function directives(context: ValidationContext, max: number): ASTVisitor {
  let count = 0;
  return {
    Directive() {
      if (++count === max + 1) context.reportError(limitExceeded('maxDirectives', max));
    },
  };
}

/**
 * Fields at the root of each operation, through fragments on the root type: one per response
 * key (alias or name), as the result has them, so a field that fragments repeat counts once.
 */
function rootFields(context: ValidationContext, max: number): ASTVisitor {
  const fragments = fragmentsOf(context);
  const collect = (set: SelectionSetNode, keys: Set<string>, spread: Set<string>): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) keys.add((selection.alias ?? selection.name).value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet, keys, spread);
      } else if (!spread.has(selection.name.value)) {
        spread.add(selection.name.value); // each fragment once: its keys are in already
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet, keys, spread);
      }
    }
  };
  return {
    OperationDefinition(operation) {
      const keys = new Set<string>();
      collect(operation.selectionSet, keys, new Set());
      if (keys.size > max) context.reportError(limitExceeded('maxRootFields', max));
    },
  };
}

/**
 * The deepest selection set of each operation, fragments (inline or spread) followed. A named
 * fragment is measured once (memoized), so one spread many times costs no more than once; an
 * unknown or cyclic one measures 0 (validation refuses the document anyway).
 */
function depth(context: ValidationContext, max: number): ASTVisitor {
  const fragments = fragmentsOf(context);
  const measured = new Map<string, number>();
  const measuring = new Set<string>();
  /** Levels of selection sets below `set`'s own. */
  const below = (set: SelectionSetNode): number => {
    let deepest = 0;
    for (const selection of set.selections) {
      const levels =
        selection.kind === Kind.FIELD
          ? selection.selectionSet
            ? 1 + below(selection.selectionSet)
            : 0
          : selection.kind === Kind.INLINE_FRAGMENT
            ? below(selection.selectionSet)
            : spread(selection.name.value);
      deepest = Math.max(deepest, levels);
    }
    return deepest;
  };
  const spread = (name: string): number => {
    const known = measured.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    if (!fragment || measuring.has(name)) return 0;
    measuring.add(name);
    const result = below(fragment.selectionSet);
    measuring.delete(name);
    measured.set(name, result);
    return result;
  };
  return {
    OperationDefinition(operation) {
      if (1 + below(operation.selectionSet) > max) {
        context.reportError(limitExceeded('maxDepth', max));
      }
    },
  };
}

/** The document's fragment definitions by name. */
function fragmentsOf(context: ValidationContext): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  return fragments;
}
