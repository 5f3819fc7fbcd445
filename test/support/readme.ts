/** A fenced code block of a Markdown file. */
export interface CodeBlock {
  /** Its place among the file's code blocks, from 0. */
  readonly index: number;
  /** The line of its opening fence, from 1. */
  readonly line: number;
  /** The fence's info string, e.g. `sh`; empty for a plain block (shown output). */
  readonly lang: string;
  /** The heading it sits under, without the `#`s. */
  readonly section: string;
  /** Its lines joined with `\n`, without a final newline. */
  readonly text: string;
}

/** The fenced (```) code blocks of `markdown`, in order, each with the heading above it. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let section = '';
  let open: { line: number; lang: string; lines: string[] } | undefined;
  for (const [i, line] of markdown.split('\n').entries()) {
    if (open) {
      if (line.trimEnd() === '```') {
        blocks.push({
          index: blocks.length,
          line: open.line,
          lang: open.lang,
          section,
          text: open.lines.join('\n'),
        });
        open = undefined;
      } else {
        open.lines.push(line);
      }
    } else if (line.startsWith('```')) {
      open = { line: i + 1, lang: line.slice(3).trim(), lines: [] };
    } else if (/^#{1,6} /.test(line)) {
      section = line.replace(/^#+ /, '').trim();
    }
  }
  if (open) throw new Error(`the code block opened on line ${open.line} is never closed`);
  return blocks;
}

/** How a block is named in failures: `sh block on line 42 ("Try it")`. */
export function describeBlock(block: CodeBlock): string {
  return `${block.lang || 'plain'} block on line ${block.line} ("${block.section}")`;
}
