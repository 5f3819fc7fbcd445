/**
 * Where the brokers' secrets come from, and that none of them reaches a log. A secret option
 * (`token`, `password`) is written `{ env: NAME }` or `{ file: path }` (or, for development,
 * as the value itself); key material (`credentials`, `nkey`, `tls.*`) is a file path. Both
 * are checked when the config is read, so that a missing variable or an unreadable file
 * stops start-up with one line naming the option.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { TlsFiles } from './config.js';

/** The provider options whose value is a secret. */
const SECRET_OPTIONS = ['token', 'password'] as const;

/**
 * Replaces, in a raw config (`nats` and each of `providers`), every secret written
 * `{ env: NAME }` or `{ file: path }` by the value it names, before the config is validated.
 * A file's one trailing newline is not part of the secret. Throws a `ConfigError` naming
 * the option when the variable is unset or empty, or the file cannot be read.
 */
export function readSecrets(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  base: string,
  file: string | undefined,
): void {
  const providers = isRecord(raw['providers']) ? Object.entries(raw['providers']) : [];
  const entries: [string, unknown][] = [
    ['nats', raw['nats']],
    ...providers.map(([id, entry]): [string, unknown] => [`providers.${id}`, entry]),
  ];
  for (const [where, entry] of entries) {
    if (!isRecord(entry)) continue;
    for (const option of SECRET_OPTIONS) {
      const source = entry[option];
      if (!isRecord(source)) continue; // a plain value, or one the schema refuses
      entry[option] = readSecret(source, `${where}.${option}`, env, base, file);
    }
  }
}

function readSecret(
  source: Record<string, unknown>,
  where: string,
  env: NodeJS.ProcessEnv,
  base: string,
  file: string | undefined,
): string {
  const keys = Object.keys(source);
  const name = source['env'];
  const path = source['file'];
  if (keys.length === 1 && typeof name === 'string') {
    const value = env[name];
    if (!value) throw new ConfigError(`${where}: environment variable ${name} is not set`, file);
    return value;
  }
  if (keys.length === 1 && typeof path === 'string') {
    const absolute = resolve(base, path);
    let value: string;
    try {
      value = readFileSync(absolute, 'utf8').replace(/\r?\n$/, '');
    } catch (cause) {
      throw new ConfigError(`${where}: cannot read ${absolute} (${code(cause)})`, file, { cause });
    }
    if (!value) throw new ConfigError(`${where}: ${absolute} is empty`, file);
    return value;
  }
  throw new ConfigError(`${where}: a secret is { env: NAME }, { file: path } or a string`, file);
}

/** The key files a provider may name, each made absolute and checked readable. */
interface KeyFiles {
  credentials?: string | undefined;
  nkey?: string | undefined;
  tls?: TlsFiles | undefined;
}

/**
 * Resolves a validated provider's key files against the config file's folder, and throws a
 * `ConfigError` naming the option for one that cannot be read.
 */
export function placeKeyFiles(
  where: string,
  options: KeyFiles,
  base: string,
  file: string | undefined,
): void {
  const place = (option: string, path: string): string => {
    const absolute = resolve(base, path);
    try {
      accessSync(absolute, constants.R_OK);
    } catch (cause) {
      throw new ConfigError(`${where}.${option}: cannot read ${absolute} (${code(cause)})`, file, {
        cause,
      });
    }
    return absolute;
  };
  if (options.credentials) options.credentials = place('credentials', options.credentials);
  if (options.nkey) options.nkey = place('nkey', options.nkey);
  const { tls } = options;
  for (const part of ['ca', 'cert', 'key'] as const) {
    const path = tls?.[part];
    if (tls && path) tls[part] = place(`tls.${part}`, path);
  }
}

/** The PEM contents of a provider's TLS files, as Node's `tls.connect` takes them. */
export interface TlsPem {
  ca?: string;
  cert?: string;
  key?: string;
}

/** Reads the TLS files named (already checked readable when the config was read). */
export function readTls(tls: TlsFiles): TlsPem {
  const pem: TlsPem = {};
  for (const part of ['ca', 'cert', 'key'] as const) {
    const path = tls[part];
    if (path) pem[part] = readFileSync(path, 'utf8');
  }
  return pem;
}

/**
 * A broker URL (or a comma-separated list of them) fit for a log: the password, or a
 * token standing alone before the `@`, becomes `***`.
 */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^/@\s,]*)@/g, (_, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1 ? '//***@' : `//${userinfo.slice(0, colon)}:***@`;
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function code(error: unknown): string {
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  return typeof errno === 'string' ? errno : String(error);
}
