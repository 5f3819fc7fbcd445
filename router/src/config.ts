import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { withEnv } from './config-env.js';
import { configSchema, type RouterConfig } from './config-schema.js';
import { ConfigError } from './errors.js';
import type { ProviderConfig } from './providers/config.js';
import { placeKeyFiles, readSecrets } from './providers/secrets.js';

/** What a config that cannot be read or used throws: the file and what is wrong with it. */
export { ConfigError };
export { providerUrlVariable } from './config-env.js';
export type {
  AuthenticationConfig,
  JwksConfig,
  RouterConfig,
  SubgraphConfig,
} from './config-schema.js';

/** What the command line sets over the config file. */
export interface ConfigOverrides {
  /** `--supergraph`: serve this supergraph SDL (resolved against the working directory). */
  supergraph?: string | undefined;
}

export type { ProviderConfig };

/** Every provider by id, `default` included (from `nats` unless `providers` has one). */
export function providerConfigs(config: RouterConfig): ReadonlyMap<string, ProviderConfig> {
  const providers = new Map(Object.entries(config.providers));
  if (!providers.has('default')) providers.set('default', { kind: 'nats', ...config.nats });
  return providers;
}

/**
 * Reads the YAML config, applies the environment's overrides (config-env.ts lists them) and
 * the command line's, reads the providers' secrets (`{ env: NAME }`, `{ file: path }`),
 * validates it, and resolves its paths against the file's folder.
 */
export function loadConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  overrides: ConfigOverrides = {},
): RouterConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError('cannot read the config file', file, { cause });
  }
  let raw: unknown;
  try {
    // Merge keys (`<<: *defaults`), as docker-compose files use them.
    raw = parseYaml(text, { merge: true }) ?? {};
  } catch (cause) {
    throw new ConfigError(`not valid YAML: ${(cause as Error).message}`, file, { cause });
  }
  return parseConfig(raw, env, file, overrides);
}

/** Validates an already parsed config object; `file` anchors relative paths and messages. */
export function parseConfig(
  raw: unknown,
  env: NodeJS.ProcessEnv,
  file?: string,
  overrides: ConfigOverrides = {},
): RouterConfig {
  if (hasBoth(raw)) {
    throw new ConfigError(
      '`nats` is the shorthand for `providers.default`: configure one of them, not both',
      file,
    );
  }
  const base = file ? dirname(resolve(file)) : process.cwd();
  const input = withoutExtensions(withEnv(raw, env));
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    readSecrets(input as Record<string, unknown>, env, base, file);
  }
  const result = configSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(`invalid config\n${z.prettifyError(result.error)}`, file);
  }
  const config = result.data;
  placeKeyFiles('nats', config.nats, base, file);
  for (const [id, provider] of Object.entries(config.providers)) {
    placeKeyFiles(`providers.${id}`, provider, base, file);
  }
  if (config.events.schema) config.events.schema = resolve(base, config.events.schema);
  const place = (path: string, from: string): string =>
    isSupergraphUrl(path) ? path : resolve(from, path);
  if (config.supergraph) config.supergraph = place(config.supergraph, base);
  // A supergraph named on the command line needs no subgraphs in the file.
  if (overrides.supergraph) config.supergraph = place(overrides.supergraph, process.cwd());
  for (const subgraph of Object.values(config.subgraphs)) {
    subgraph.schema = resolve(base, subgraph.schema);
  }
  for (const source of config.authentication.jwt?.jwks ?? []) {
    if ('file' in source) source.file = resolve(base, source.file);
  }
  if (config.authentication.required && !config.authentication.jwt) {
    throw new ConfigError('`authentication.required` needs `authentication.jwt`', file);
  }
  if (!config.supergraph && Object.keys(config.subgraphs).length === 0) {
    throw new ConfigError('name at least one subgraph under `subgraphs`, or a `supergraph`', file);
  }
  return config;
}

function hasBoth(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null) return false;
  const { nats, providers } = raw as Record<string, unknown>;
  return (
    nats !== undefined &&
    typeof providers === 'object' &&
    providers !== null &&
    'default' in providers
  );
}

/** Whether `supergraph` names a URL to fetch rather than a file. */
export function isSupergraphUrl(supergraph: string): boolean {
  return /^https?:\/\//i.test(supergraph);
}

/**
 * The config without its top-level `x-…` keys: a place for YAML anchors that the router
 * does not read, as in docker-compose files. Every other unknown key is a mistake.
 */
function withoutExtensions(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  return Object.fromEntries(Object.entries(raw).filter(([key]) => !key.startsWith('x-')));
}
