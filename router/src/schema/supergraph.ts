import { readFileSync } from 'node:fs';
import type { GraphQLSchema } from 'graphql';
import {
  DEFAULT_SUPPORTED_SUPERGRAPH_FEATURES,
  Supergraph,
  type Schema,
} from '@apollo/federation-internals';
import { SchemaError } from '../errors.js';
import { readAuthorizationRules, type AuthorizationRules } from '../auth/requirements.js';

/** A supergraph ready for planning and execution, and what the router serves from it. */
export interface LoadedSupergraph {
  supergraph: Supergraph;
  /** The client-facing schema in federation's model (planning, result shaping). */
  apiSchema: Schema;
  /** The client-facing schema for graphql-js (validation, introspection). */
  apiGraphQLSchema: GraphQLSchema;
  /** The full supergraph schema for graphql-js (the executor's data rewrites). */
  supergraphGraphQLSchema: GraphQLSchema;
  /** Subgraphs that have a URL, by name. The events graph has none. */
  subgraphUrls: ReadonlyMap<string, string>;
  /** Whether the supergraph has the events graph: without it, no subscription is bound. */
  hasEventsGraph: boolean;
  /** What `@authenticated` and `@requiresScopes` ask for (the API schema drops them). */
  authorization: AuthorizationRules;
}

/**
 * The linked features a supergraph may use. A `for: SECURITY` feature the router does not
 * enforce (`@policy`, say) makes the supergraph refused rather than served unprotected.
 */
const SUPPORTED_FEATURES = new Set([
  ...DEFAULT_SUPPORTED_SUPERGRAPH_FEATURES,
  'https://specs.apollo.dev/authenticated/v0.1',
  'https://specs.apollo.dev/requiresScopes/v0.1',
]);

export function loadSupergraph(sdl: string, eventsGraph: string): LoadedSupergraph {
  assertStartsWithSdl(sdl);
  let supergraph: Supergraph;
  try {
    supergraph = Supergraph.build(sdl, { supportedFeatures: SUPPORTED_FEATURES });
  } catch (cause) {
    throw new SchemaError(`not a valid supergraph: ${(cause as Error).message}`, undefined, {
      cause,
    });
  }
  const subgraphUrls = new Map<string, string>();
  let hasEventsGraph = false;
  for (const { name, url } of supergraph.subgraphsMetadata().values()) {
    if (name === eventsGraph) hasEventsGraph = true;
    else if (url) subgraphUrls.set(name, url);
    else throw new SchemaError('has no URL in the supergraph', name);
  }
  const apiSchema = supergraph.apiSchema();
  return {
    supergraph,
    apiSchema,
    apiGraphQLSchema: apiSchema.toGraphQLJSSchema(),
    supergraphGraphQLSchema: supergraph.schema.toGraphQLJSSchema(),
    subgraphUrls,
    hasEventsGraph,
    authorization: readAuthorizationRules(supergraph.schema),
  };
}

/**
 * Reads a supergraph SDL file. A file that does not start with SDL is refused with the line
 * found there: most often `pnpm router compose > file` also captured pnpm's banner.
 */
export function readSupergraphFile(file: string): string {
  let sdl: string;
  try {
    sdl = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new SchemaError(`cannot read the supergraph ${file}`, undefined, { cause });
  }
  assertStartsWithSdl(sdl, file);
  return sdl;
}

// What a type system document can start with: a description or a definition's keyword.
const SDL_START = /^(?:"|(?:schema|scalar|type|interface|union|enum|input|directive|extend)\b)/;
const IGNORED = /^[\s,\uFEFF]*/; // white space, commas and a byte order mark mean nothing

/** @param file the file the SDL came from, named in the error */
function assertStartsWithSdl(sdl: string, file?: string): void {
  const lines = sdl.split(/\r\n|[\n\r]/);
  const index = lines.findIndex((line) => {
    const text = line.replace(IGNORED, '');
    return text !== '' && !text.startsWith('#');
  });
  if (index === -1 || SDL_START.test(lines[index]!.replace(IGNORED, ''))) return;
  const line = lines[index]!.trim();
  const shown = line.length > 80 ? `${line.slice(0, 79)}…` : line;
  const target = file ?? 'supergraph.graphql';
  throw new SchemaError(
    `${file ?? 'the supergraph'}: line ${index + 1} is not GraphQL SDL (${JSON.stringify(shown)}): write the file ` +
      `with \`pnpm router compose --out ${target}\` (or \`pnpm -s router compose > ${target}\`)`,
  );
}
