import { Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SubgraphSdlError } from './errors.js';
import { loadSubgraphSdl } from './sdl.js';

describe('loadSubgraphSdl', () => {
  it('parses schemas/<name>.graphql from the repository root', () => {
    const document = loadSubgraphSdl('scrape-job');
    expect(document.kind).toBe(Kind.DOCUMENT);
    expect(document.loc?.source.body).toContain('type ScrapeJobState @key(fields: "id")');
  });

  it.each(['../package', 'missing'])('refuses %s', (name) => {
    expect(() => loadSubgraphSdl(name)).toThrow(SubgraphSdlError);
  });
});
