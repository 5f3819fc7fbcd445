import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SchemaError } from '../errors.js';
import { loadSupergraph, readSupergraphFile } from './supergraph.js';

// What `pnpm router compose > supergraph.graphql` writes before the SDL.
const pnpmBanner =
  '\n> edfs-router-workspace@ router /work/main\n> tsx router/src/cli.ts compose\n\n';
const sdl = 'schema @link(url: "https://specs.apollo.dev/link/v1.0") { query: Query }\n';

describe('readSupergraphFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edfs-supergraph-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('names the file, the line found and how to write the file instead', () => {
    const file = write('banner.graphql', pnpmBanner + sdl);
    const read = () => readSupergraphFile(file);
    expect(read).toThrow(SchemaError);
    expect(read).toThrow(
      `${file}: line 2 is not GraphQL SDL ("> edfs-router-workspace@ router /work/main"): ` +
        `write the file with \`pnpm router compose --out ${file}\` ` +
        `(or \`pnpm -s router compose > ${file}\`)`,
    );
  });

  it('shortens a long stray line', () => {
    const file = write('long.graphql', `${'x'.repeat(200)}\n${sdl}`);
    expect(() => readSupergraphFile(file)).toThrow(
      `line 1 is not GraphQL SDL ("${'x'.repeat(79)}…")`,
    );
  });

  it('reads SDL after blank lines, comments and a description as it is', () => {
    const text = `\uFEFF\n  # composed by hand\n\n"""The supergraph"""\n${sdl}`;
    expect(readSupergraphFile(write('ok.graphql', text))).toBe(text);
    expect(readSupergraphFile(write('extend.graphql', `extend ${sdl}`))).toBe(`extend ${sdl}`);
  });

  it('says it cannot read a missing file', () => {
    const file = join(dir, 'missing.graphql');
    expect(() => readSupergraphFile(file)).toThrow(`cannot read the supergraph ${file}`);
  });
});

describe('loadSupergraph', () => {
  it('refuses SDL behind a stray line, without a file to name', () => {
    expect(() => loadSupergraph(pnpmBanner + sdl, 'events')).toThrow(
      'the supergraph: line 2 is not GraphQL SDL ("> edfs-router-workspace@ router /work/main")',
    );
  });
});
