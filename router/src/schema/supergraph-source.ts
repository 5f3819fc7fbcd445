import { realpathSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { isSupergraphUrl, type RouterConfig } from '../config.js';
import { SchemaError } from '../errors.js';
import type { Logger } from '../logger.js';
import { composeSupergraph, configSources } from './compose.js';
import { readSupergraphFile } from './supergraph.js';

/** Where the router's supergraph comes from, and how it learns it may have changed. */
export interface SupergraphSource {
  /** The supergraph SDL as it is now. */
  read(): Promise<string>;
  /** Calls `changed` whenever the supergraph may have changed; the function returned stops. */
  watch(changed: () => void): () => void;
}

/** How long a supergraph URL has to answer. */
const FETCH_TIMEOUT_MS = 10_000;
/** Editors write a file in several steps: one reload for the lot. */
const SETTLE_MS = 100;

/**
 * The config's supergraph: a file (watched, unless `reload.watch` is off), a URL (polled
 * every `reload.pollIntervalMs`), or, without either, the composition of the config's
 * subgraphs (composed again on each read; only SIGHUP asks for one).
 */
export function supergraphSource(config: RouterConfig, logger: Logger): SupergraphSource {
  const { supergraph, reload } = config;
  if (!supergraph) {
    return { read: async () => composeSupergraph(configSources(config)), watch: () => () => {} };
  }
  if (isSupergraphUrl(supergraph)) {
    return {
      read: () => fetchSupergraph(supergraph),
      watch(changed) {
        const timer = setInterval(changed, reload.pollIntervalMs);
        timer.unref();
        return () => clearInterval(timer);
      },
    };
  }
  return {
    read: async () => readSupergraphFile(supergraph),
    watch(changed) {
      if (!reload.watch) return () => {};
      // The folder, not the file: an editor or `mv` replaces the file, and a watch on the
      // old one would go quiet. A reload that reads the same text does nothing.
      let watcher: FSWatcher;
      try {
        watcher = watch(dirname(supergraph));
      } catch (error) {
        logger.warn({ err: error, supergraph }, 'cannot watch the supergraph file; SIGHUP reloads');
        return () => {};
      }
      let settle: NodeJS.Timeout | undefined;
      watcher.on('change', (_event, name) => {
        if (!concerns(name, [basename(supergraph), linkedName(supergraph)])) return;
        clearTimeout(settle);
        // Truncated and not written yet (`rover supergraph fetch > file`), or deleted to be
        // made again: the write to come is the change.
        settle = setTimeout(() => {
          if (written(supergraph)) return changed();
          logger.debug({ supergraph }, 'supergraph file empty or missing; waiting for its write');
        }, SETTLE_MS);
      });
      watcher.on('error', (error) =>
        logger.warn({ err: error, supergraph }, 'watching the supergraph file failed'),
      );
      return () => {
        clearTimeout(settle);
        watcher.close();
      };
    },
  };
}

/**
 * Whether a change to `name` in the supergraph file's folder may change the file: one of
 * `files` (the file, and the one it links to), or a Kubernetes volume's (a ConfigMap's)
 * `..data` link it points through, which kubelet swaps, with the timestamped folders beside
 * it; `null` when the platform does not say. Not a log written beside it, whose every line
 * would read the file again.
 */
export function concerns(name: string | Buffer | null, files: readonly string[]): boolean {
  if (name === null) return true;
  const changed = name.toString();
  return files.includes(changed) || changed.startsWith('..');
}

/** The name of the file `file` links to (itself if it is no link; '' if it is missing). */
function linkedName(file: string): string {
  try {
    return basename(realpathSync(file));
  } catch {
    return '';
  }
}

/** Whether the file is there and holds something. */
function written(file: string): boolean {
  return (statSync(file, { throwIfNoEntry: false })?.size ?? 0) > 0;
}

async function fetchSupergraph(url: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (cause) {
    throw new SchemaError(`cannot fetch the supergraph from ${url}`, undefined, { cause });
  }
  if (!response.ok) {
    throw new SchemaError(`fetching the supergraph from ${url} answered HTTP ${response.status}`);
  }
  return response.text();
}
