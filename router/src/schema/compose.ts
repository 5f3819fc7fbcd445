import { readFileSync } from 'node:fs';
import { parse, type DocumentNode } from 'graphql';
import { composeServices } from '@apollo/composition';
import type { RouterConfig } from '../config.js';
import { SchemaError } from '../errors.js';

export interface SubgraphSource {
  name: string;
  /** Absent for the events graph, which has no server. */
  url?: string;
  /** Path of the SDL file. */
  schema: string;
}

/** Reads and parses one subgraph's SDL, naming the subgraph in any error. */
export function readSubgraphSdl(source: Pick<SubgraphSource, 'name' | 'schema'>): DocumentNode {
  let text: string;
  try {
    text = readFileSync(source.schema, 'utf8');
  } catch (cause) {
    throw new SchemaError(`cannot read ${source.schema}`, source.name, { cause });
  }
  try {
    return parse(text);
  } catch (cause) {
    throw new SchemaError(`${source.schema}: ${(cause as Error).message}`, source.name, { cause });
  }
}

/** Composes the subgraphs (the events graph among them) into a supergraph SDL. */
export function composeSupergraph(sources: readonly SubgraphSource[]): string {
  const result = composeServices(
    sources.map((source) => ({
      name: source.name,
      url: source.url ?? '',
      typeDefs: readSubgraphSdl(source),
    })),
  );
  if (result.errors) {
    const reasons = result.errors.map((error) => `  - ${error.message}`).join('\n');
    throw new SchemaError(`composition failed:\n${reasons}`);
  }
  return result.supergraphSdl;
}

/** The events graph, if the config has one, and every configured subgraph, to compose. */
export function configSources(config: RouterConfig): SubgraphSource[] {
  const { name, schema } = config.events;
  return [
    ...(schema ? [{ name, schema }] : []),
    ...Object.entries(config.subgraphs).map(([name, subgraph]) => ({ name, ...subgraph })),
  ];
}
