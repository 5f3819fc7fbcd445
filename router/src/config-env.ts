/**
 * The environment variables that override the config file's options: `HOST`, `PORT`,
 * `NATS_URL`, `PROVIDER_<ID>_URL`, `SUBGRAPH_<NAME>_URL`, `EVENTS_REQUEST_TIMEOUT_MS`,
 * `EVENTS_PUBLISH_TIMEOUT_MS`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_SERVICE_NAME`.
 */
import { ConfigError } from './errors.js';

/** The environment variable that overrides provider `id`'s URL. */
export function providerUrlVariable(id: string): string {
  return `PROVIDER_${id.toUpperCase()}_URL`;
}

/**
 * The number in variable `name`, written in decimal (`Number` would also take `0x1F90` and
 * `4e3`); one that is not is an error that names it.
 */
function numberIn(env: NodeJS.ProcessEnv, name: string): number {
  const text = env[name]!;
  if (!/^\s*-?\d+(\.\d+)?\s*$/.test(text)) {
    throw new ConfigError(`${name}=${JSON.stringify(text)} is not a number`, undefined);
  }
  return Number(text);
}

/** The raw config (as parsed from YAML) with `env`'s overrides applied, as a copy. */
export function withEnv(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const config = structuredClone(raw) as Record<string, Record<string, unknown> | undefined>;
  const section = (name: string): Record<string, unknown> => {
    const value = config[name];
    if (typeof value === 'object' && value !== null) return value;
    return (config[name] = {});
  };
  if (env['HOST']) section('listen')['host'] = env['HOST'];
  if (env['PORT']) {
    const port = numberIn(env, 'PORT');
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new ConfigError(
        `PORT=${JSON.stringify(env['PORT'])} is not a TCP port (0-65535)`,
        undefined,
      );
    }
    section('listen')['port'] = port;
  }
  for (const [variable, option] of [
    ['EVENTS_REQUEST_TIMEOUT_MS', 'requestTimeoutMs'],
    ['EVENTS_PUBLISH_TIMEOUT_MS', 'publishTimeoutMs'],
  ] as const) {
    if (!env[variable]) continue;
    const ms = numberIn(env, variable);
    if (!Number.isInteger(ms) || ms < 1) {
      throw new ConfigError(
        `${variable}=${JSON.stringify(env[variable])} is not a whole number of milliseconds (1 or more)`,
        undefined,
      );
    }
    section('events')[option] = ms;
  }
  // NATS_URL and PROVIDER_DEFAULT_URL both name the default provider's server(s); a variable
  // set to nothing is not set.
  const defaultUrl = env[providerUrlVariable('default')] || env['NATS_URL'];
  const providers = config['providers'];
  const named = typeof providers === 'object' && providers !== null ? providers : {};
  if (defaultUrl && !('default' in named)) section('nats')['url'] = defaultUrl;
  for (const [id, provider] of Object.entries(named)) {
    const url =
      env[providerUrlVariable(id)] ||
      (id === 'default' && (provider as Record<string, unknown>)['kind'] === 'nats'
        ? env['NATS_URL']
        : undefined);
    if (url && typeof provider === 'object' && provider !== null) {
      (provider as Record<string, unknown>)['url'] = url;
    }
  }
  const otlpEndpoint =
    env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ||
    (env['OTEL_EXPORTER_OTLP_ENDPOINT'] &&
      `${env['OTEL_EXPORTER_OTLP_ENDPOINT'].replace(/\/+$/, '')}/v1/traces`);
  if (otlpEndpoint) section('tracing')['endpoint'] = otlpEndpoint;
  if (env['OTEL_SERVICE_NAME']) section('tracing')['serviceName'] = env['OTEL_SERVICE_NAME'];
  const subgraphs = config['subgraphs'];
  if (typeof subgraphs === 'object' && subgraphs !== null) {
    for (const [name, subgraph] of Object.entries(subgraphs)) {
      const url = env[`SUBGRAPH_${name.toUpperCase().replace(/-/g, '_')}_URL`];
      if (url && typeof subgraph === 'object' && subgraph !== null) {
        (subgraph as Record<string, unknown>)['url'] = url;
      }
    }
  }
  return config;
}
