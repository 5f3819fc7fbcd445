import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { RouterConfig } from '../config.js';
import { concerns, supergraphSource } from './supergraph-source.js';

describe('concerns', () => {
  it.each([
    ['supergraph.graphql', true],
    ['..data', true],
    ['..2026_12_08_00_00_00.123', true],
    [null, true],
    ['v2.graphql', true], // what supergraph.graphql links to
    ['router.log', false],
    ['supergraph.graphql.swp', false],
  ])('a change to %j: %s', (name, expected) => {
    expect(concerns(name, ['supergraph.graphql', 'v2.graphql'])).toBe(expected);
  });
});

describe('a watched supergraph file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Watches `supergraph.graphql` in a new folder: the reloads it asks for, what it logs. */
  const watched = () => {
    const dir = mkdtempSync(join(tmpdir(), 'edfs-source-'));
    dirs.push(dir);
    const file = join(dir, 'supergraph.graphql');
    writeFileSync(file, 'first');
    const config = { supergraph: file, reload: { watch: true } } as unknown as RouterConfig;
    const seen: string[] = [];
    let wake: () => void = () => undefined;
    const next = () => new Promise<void>((resolve) => (wake = resolve));
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => (seen.push((JSON.parse(line) as { msg: string }).msg), wake()) },
    );
    const stop = supergraphSource(config, logger).watch(() => (seen.push('changed'), wake()));
    return { file, seen, next, stop };
  };

  it('asks for a reload when the file it links to beside it is written', async () => {
    const { file, seen, next, stop } = watched();
    try {
      const target = join(dirname(file), 'v2.graphql');
      writeFileSync(target, 'v2');
      rmSync(file);
      symlinkSync('v2.graphql', file);
      let asked = next();
      await asked; // the link's own change
      asked = next();
      writeFileSync(target, 'v2, edited in place');
      await asked;
      expect(seen.at(-1)).toBe('changed');
    } finally {
      stop();
    }
  });

  it.each([
    ['truncated', (file: string) => writeFileSync(file, '')],
    ['deleted', (file: string) => rmSync(file)],
  ])('waits for the write of a file %s before asking for a reload', async (_, undo) => {
    const { file, seen, next, stop } = watched();
    try {
      const waited = next();
      undo(file);
      await waited;
      expect(seen).toContain('supergraph file empty or missing; waiting for its write');
      expect(seen).not.toContain('changed');
      const asked = next();
      writeFileSync(file, 'second');
      await asked;
      expect(seen.at(-1)).toBe('changed');
    } finally {
      stop();
    }
  });
});
