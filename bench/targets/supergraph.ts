import { join } from 'node:path';
import { spawnNode } from './child.js';
import { writeRouterConfig } from './router.js';
import type { TargetContext } from './target.js';

/**
 * `pnpm router compose --config <bench router.yaml> --out <file>`: the supergraph the
 * gateways under comparison serve, the same subgraphs as the router's.
 */
export async function composeSupergraph(context: TargetContext): Promise<string> {
  const out = join(context.workDir, 'supergraph.graphql');
  const config = writeRouterConfig(context);
  const compose = spawnNode([
    '--import',
    'tsx',
    'router/src/cli.ts',
    'compose',
    '--config',
    config,
    '--out',
    out,
  ]);
  const code = await new Promise<number | null>((resolve) => compose.process.once('exit', resolve));
  if (code !== 0) throw new Error(`pnpm router compose failed (${code}):\n${compose.tail()}`);
  return out;
}
