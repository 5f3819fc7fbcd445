import Handlebars from 'handlebars';
import { GraphQLError } from 'graphql';
import { TopicTemplateError } from '../errors.js';
import type { SubjectSyntax } from '../providers/provider.js';

/** Values a template may refer to: `{{ args.<name> }}`. */
export interface TopicContext {
  args: Readonly<Record<string, unknown>>;
}

export interface TopicTemplate {
  readonly template: string;
  /** Every subject it can render, as a NATS-style pattern: each value is `*`. */
  readonly pattern: string;
  /** The subject for these arguments, or a `BAD_USER_INPUT` error naming the argument. */
  render(context: TopicContext): string | GraphQLError;
}

/**
 * Compiles an `@eventsSubscribe` template once. Only plain `{{ args.x }}` paths are allowed,
 * and each must name an argument of the field, so a bad template fails at start-up.
 */
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
  for (const statement of program.body) {
    if (statement.type === 'ContentStatement') continue;
    const mustache = statement as hbs.AST.MustacheStatement;
    const path = mustache.path as hbs.AST.PathExpression;
    if (
      statement.type !== 'MustacheStatement' ||
      path.type !== 'PathExpression' ||
      mustache.params.length > 0
    ) {
      fail('only {{ args.<name> }} expressions are supported');
    }
    const [root, name, ...rest] = path.parts;
    if (root !== 'args' || name === undefined || rest.length > 0 || path.data) {
      fail(`"${path.original}" must be args.<name>`);
    } else if (!argumentNames.includes(name)) {
      fail(`"${path.original}" is not an argument of the field`);
    } else {
      used.push(name);
    }
  }
  const render = Handlebars.compile<TopicContext>(template, { strict: true, noEscape: true });
  return {
    template,
    pattern: render({ args: Object.fromEntries(used.map((name) => [name, '*'])) }),
    render(context) {
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
      const subject = render(context);
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
