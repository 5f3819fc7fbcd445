import type { GraphQLSchema } from 'graphql';
import { Supergraph, type Schema } from '@apollo/federation-internals';
import { SchemaError } from '../errors.js';

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
}

export function loadSupergraph(sdl: string, eventsGraph: string): LoadedSupergraph {
  let supergraph: Supergraph;
  try {
    supergraph = Supergraph.build(sdl);
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
  if (!hasEventsGraph) {
    throw new SchemaError(`the supergraph has no events graph named "${eventsGraph}"`);
  }
  const apiSchema = supergraph.apiSchema();
  return {
    supergraph,
    apiSchema,
    apiGraphQLSchema: apiSchema.toGraphQLJSSchema(),
    supergraphGraphQLSchema: supergraph.schema.toGraphQLJSSchema(),
    subgraphUrls,
  };
}
