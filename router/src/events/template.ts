/**
 * The template language of our directives (`@eventsSubscribe` topics, `@eventsFilter`
 * values): text with `{{ args.<name> }}` and `{{ claims.<name> }}`, nothing else. Parsed
 * with Handlebars once, at start-up, so a bad template never reaches a request.
 */
import Handlebars from 'handlebars';
import { GraphQLError } from 'graphql';

/** One piece of a template: literal text, a field argument, or a claim of the caller's token. */
export type TemplateSegment =
  { readonly text: string } | { readonly arg: string } | { readonly claim: string };

/** Why a template cannot be used; the caller names the directive and the field. */
export class TemplateSyntaxError extends Error {
  override readonly name = 'TemplateSyntaxError';
}

/** Claim names a template may read (`sub`, `tenant_id`); no path into nested objects. */
const CLAIM_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * The segments of `template`, in order.
 *
 * @param argumentNames the field's arguments: the only ones `args.<name>` may name
 * @throws TemplateSyntaxError for anything but text, `args.<argument>` and `claims.<name>`
 */
export function parseTemplate(
  template: string,
  argumentNames: readonly string[],
): TemplateSegment[] {
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(template);
  } catch (cause) {
    throw new TemplateSyntaxError((cause as Error).message, { cause });
  }
  return program.body.map((statement): TemplateSegment => {
    if (statement.type === 'ContentStatement') {
      return { text: (statement as hbs.AST.ContentStatement).value };
    }
    const mustache = statement as hbs.AST.MustacheStatement;
    const path = mustache.path as hbs.AST.PathExpression;
    if (
      statement.type !== 'MustacheStatement' ||
      path.type !== 'PathExpression' ||
      mustache.params.length > 0
    ) {
      throw new TemplateSyntaxError(
        'only {{ args.<name> }} and {{ claims.<name> }} expressions are supported',
      );
    }
    const [root, name, ...rest] = path.parts;
    if (
      (root !== 'args' && root !== 'claims') ||
      name === undefined ||
      rest.length > 0 ||
      path.data
    ) {
      throw new TemplateSyntaxError(`"${path.original}" must be args.<name> or claims.<name>`);
    }
    if (root === 'claims') {
      if (!CLAIM_NAME.test(name)) {
        throw new TemplateSyntaxError(
          `"${path.original}": a claim name is a letter, then letters, digits, _`,
        );
      }
      return { claim: name };
    }
    if (!argumentNames.includes(name)) {
      throw new TemplateSyntaxError(`"${path.original}" is not an argument of the field`);
    }
    return { arg: name };
  });
}

/**
 * The caller's own claim `name` (never one it inherits), or the `UNAUTHENTICATED` error for
 * a caller without a token or without that claim.
 *
 * @param reads what reads the claim, for the error: `its subject`, `its filter`
 */
export function readClaim(
  claims: Readonly<Record<string, unknown>> | undefined,
  name: string,
  field: string,
  reads: string,
): unknown {
  const value = claims && Object.hasOwn(claims, name) ? claims[name] : undefined;
  if (value !== undefined && value !== null) return value;
  return new GraphQLError(
    claims
      ? `"${field}" needs a token with a "${name}" claim.`
      : `"${field}" needs a token: ${reads} is the caller's "${name}" claim.`,
    { extensions: { code: 'UNAUTHENTICATED', claim: name } },
  );
}
