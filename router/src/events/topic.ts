import Handlebars from 'handlebars';
import { GraphQLError } from 'graphql';
import { TopicTemplateError } from '../errors.js';
import type { SubjectSyntax } from '../providers/provider.js';

/** Values a template may refer to: `{{ args.<name> }}` and `{{ claims.<name> }}`. */
export interface TopicContext {
  args: Readonly<Record<string, unknown>>;
  /** The caller's verified token claims; `undefined` for an anonymous caller. */
  claims?: Readonly<Record<string, unknown>> | undefined;
}

export interface TopicTemplate {
  readonly template: string;
  /** Every subject it can render, as a NATS-style pattern: each value is `*`. */
  readonly pattern: string;
  /** Whether it reads the caller's claims: only a caller with a token can subscribe. */
  readonly readsClaims: boolean;
  /**
   * The subject for these arguments and claims, or the error refusing them:
   * `BAD_USER_INPUT` naming the argument, or `UNAUTHENTICATED` when a claim it reads is
   * missing (no token, or a token without that claim) or is not one subject token.
   */
  render(context: TopicContext): string | GraphQLError;
}

/**
 * Compiles an `@eventsSubscribe` template once. Only plain `{{ args.x }}` paths, each naming
 * an argument of the field, and `{{ claims.x }}` paths are allowed, so a bad template fails
 * at start-up.
 */
/** Claim names a template may read (`sub`, `tenant_id`); no path into nested objects. */
const CLAIM_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export function compileTopic(
  field: string,
  template: string,
  argumentNames: readonly string[],
  syntax: SubjectSyntax,
): TopicTemplate {
  const fail = (message: string, cause?: unknown): never => {
    throw new TopicTemplateError(message, field, template, { cause });
  };
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(template);
  } catch (cause) {
    return fail((cause as Error).message, cause);
  }
  const used: string[] = [];
  const claims: string[] = [];
  for (const statement of program.body) {
    if (statement.type === 'ContentStatement') continue;
    const mustache = statement as hbs.AST.MustacheStatement;
    const path = mustache.path as hbs.AST.PathExpression;
    if (
      statement.type !== 'MustacheStatement' ||
      path.type !== 'PathExpression' ||
      mustache.params.length > 0
    ) {
      fail('only {{ args.<name> }} and {{ claims.<name> }} expressions are supported');
    }
    const [root, name, ...rest] = path.parts;
    if (
      (root !== 'args' && root !== 'claims') ||
      name === undefined ||
      rest.length > 0 ||
      path.data
    ) {
      fail(`"${path.original}" must be args.<name> or claims.<name>`);
    } else if (root === 'claims') {
      if (!CLAIM_NAME.test(name))
        fail(`"${path.original}": a claim name is a letter, then letters, digits, _`);
      if (!claims.includes(name)) claims.push(name);
    } else if (!argumentNames.includes(name)) {
      fail(`"${path.original}" is not an argument of the field`);
    } else {
      used.push(name);
    }
  }
  const render = Handlebars.compile<TopicContext>(template, { strict: true, noEscape: true });
  return {
    template,
    pattern: render({
      args: Object.fromEntries(used.map((name) => [name, '*'])),
      claims: Object.fromEntries(claims.map((name) => [name, '*'])),
    }),
    readsClaims: claims.length > 0,
    render(context) {
      // Only the claims it reads, as checked strings: nothing else of the token reaches Handlebars.
      const values: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const name of claims) {
        const value =
          context.claims && Object.hasOwn(context.claims, name) ? context.claims[name] : undefined;
        if (value === undefined) {
          return new GraphQLError(
            context.claims
              ? `"${field}" needs a token with a "${name}" claim.`
              : `"${field}" needs a token: its subject is the caller's "${name}" claim.`,
            { extensions: { code: 'UNAUTHENTICATED', claim: name } },
          );
        }
        const text = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
        if (!syntax.isToken(text)) {
          return new GraphQLError(
            `The token's "${name}" claim cannot be a subject token of "${field}": ${syntax.tokenRule}.`,
            { extensions: { code: 'UNAUTHENTICATED', claim: name } },
          );
        }
        values[name] = text;
      }
      for (const name of used) {
        const value = context.args[name];
        const text = value === undefined || value === null ? '' : String(value);
        if (!syntax.isToken(text)) {
          return new GraphQLError(
            `Argument "${name}" of "${field}" must be one subject token: ${syntax.tokenRule}.`,
            { extensions: { code: 'BAD_USER_INPUT', argument: name } },
          );
        }
      }
      const subject = render({ args: context.args, claims: values });
      const bytes = Buffer.byteLength(subject);
      if (bytes > syntax.maxSubjectBytes) {
        return new GraphQLError(
          `The arguments of "${field}" make a subject of ${bytes} bytes; at most ${syntax.maxSubjectBytes} are allowed.`,
          { extensions: { code: 'BAD_USER_INPUT' } },
        );
      }
      return subject;
    },
  };
}
