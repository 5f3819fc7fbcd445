import { describe, expect, it } from 'vitest';
import { updateResults } from './results-file.js';

describe('updateResults', () => {
  const render = (part: string): string => `rendered ${part}`;

  it('keeps the hand-written notes part through every run and never renders it', () => {
    const first = updateResults(undefined, ['query'], render);
    expect(first.wrote).toEqual(['query']);
    const withNotes = first.text.replace(
      '<!-- end of bench part: query -->',
      '<!-- end of bench part: query -->\n\n<!-- bench part: query-notes -->\n\nmy notes\n\n<!-- end of bench part: query-notes -->',
    );
    for (const ran of [['query'], ['fan-out', 'spread', 'mixed', 'idle'], ['resume']] as const) {
      const next = updateResults(withNotes, ran, render);
      expect(next.wrote).not.toContain('query-notes');
      expect(next.text).toContain('my notes');
    }
  });

  it('rewrites the query part only on a run of the query scenario', () => {
    const old = updateResults(undefined, ['query'], () => 'old numbers').text;
    expect(updateResults(old, ['resume'], render).text).toContain('old numbers');
    expect(updateResults(old, ['query'], render).text).toContain('rendered query');
  });
});
