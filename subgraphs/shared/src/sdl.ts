import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, type DocumentNode } from 'graphql';
import { SubgraphSdlError } from './errors.js';

/** `schemas/` at the repository root, found from this file rather than the working directory. */
const schemasDirectory = new URL('../../../schemas/', import.meta.url);

/**
 * Reads and parses `schemas/<name>.graphql`, e.g. `loadSubgraphSdl('scrape-job')`.
 *
 * @throws SubgraphSdlError when the name is not a plain file name, or the file is missing or
 *   does not parse.
 */
export function loadSubgraphSdl(name: string): DocumentNode {
  const file = fileURLToPath(new URL(`${name}.graphql`, schemasDirectory));
  // The name becomes a path: keep it to one plain segment.
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new SubgraphSdlError(`"${name}" is not a subgraph name`, file);
  }
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new SubgraphSdlError('cannot read the SDL', file, { cause });
  }
  try {
    return parse(source);
  } catch (cause) {
    throw new SubgraphSdlError('the SDL does not parse', file, { cause });
  }
}
