import Handlebars from 'handlebars';
import { GraphQLError } from 'graphql';
import { TopicTemplateError } from '../errors.js';
import type { SubjectSyntax } from '../providers/provider.js';
import { parseTemplate, readClaim, TemplateSyntaxError, type TemplateSegment } from './template.js';

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
export function compileTopic(
  field: string,
  template: string,
  argumentNames: readonly string[],
  syntax: SubjectSyntax,
): TopicTemplate {
  let segments: TemplateSegment[];
  try {
    segments = parseTemplate(template, argumentNames);
  } catch (cause) {
    if (!(cause instanceof TemplateSyntaxError)) throw cause;
    throw new TopicTemplateError(cause.message, field, template, { cause });
  }
  const used: string[] = [];
  const claims: string[] = [];
  for (const segment of segments) {
    if ('arg' in segment) used.push(segment.arg);
    else if ('claim' in segment && !claims.includes(segment.claim)) claims.push(segment.claim);
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
        const value = readClaim(context.claims, name, field, 'its subject');
        if (value instanceof GraphQLError) return value;
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
