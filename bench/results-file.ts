/**
 * bench/RESULTS.md is made of parts, each reporting a set of scenarios and each with its
 * own command, date and commit. A run rewrites a part only when it ran every scenario of
 * it (or the file has no such part yet) and keeps the others as the file had them: so
 * `pnpm bench --scenario resume` does not wipe the full run's tables, nor
 * `--scenario fan-out` the spread, mixed and idle results next to them. A part without
 * scenarios is written by hand, and kept by every run.
 */
import type { ScenarioName } from './options.js';

/** The parts, in file order, and the scenarios each one reports. */
export const reportParts = {
  'side-by-side': ['fan-out', 'saturate', 'spread', 'mixed', 'idle'],
  resume: ['resume'],
  query: ['query'],
  /** Hand-written: where the router's time goes on the query path. No run writes it. */
  'query-notes': [],
  /** Hand-written: comparisons of several runs, each with its command. No run writes it. */
  notes: [],
} as const satisfies Record<string, readonly ScenarioName[]>;
export type ReportPart = keyof typeof reportParts;

const partNames = Object.keys(reportParts) as ReportPart[];
const begin = (part: ReportPart): string => `<!-- bench part: ${part} -->`;
const end = (part: ReportPart): string => `<!-- end of bench part: ${part} -->`;
const title = '# Benchmark results';

export interface UpdatedResults {
  text: string;
  /** Parts this run wrote. */
  wrote: ReportPart[];
  /** Parts this run ran only some scenarios of, kept as the file had them. */
  kept: ReportPart[];
}

/**
 * The new file from `existing` (undefined if there is none) after a run of `ran`;
 * `render(part)` writes a part from this run's results. A file from before there were
 * parts is all side-by-side results.
 */
export function updateResults(
  existing: string | undefined,
  ran: readonly ScenarioName[],
  render: (part: ReportPart) => string,
): UpdatedResults {
  const old = existing === undefined ? {} : readParts(existing);
  const wrote: ReportPart[] = [];
  const kept: ReportPart[] = [];
  const parts = partNames.flatMap((part) => {
    const scenarios: readonly ScenarioName[] = reportParts[part];
    const ranAll = scenarios.length > 0 && scenarios.every((s) => ran.includes(s));
    const ranSome = scenarios.some((s) => ran.includes(s));
    let body = old[part];
    if (ranAll || (ranSome && body === undefined)) {
      body = render(part);
      wrote.push(part);
    } else if (ranSome) {
      kept.push(part);
    }
    return body === undefined ? [] : [`${begin(part)}\n\n${body.trim()}\n\n${end(part)}`];
  });
  const text = `${title}

Each part below comes from its own run, named with its command, date and commit. A run of
\`pnpm bench\` rewrites a part when it runs all of that part's scenarios, and keeps the others.

${parts.join('\n\n')}
`;
  return { text, wrote, kept };
}

/** The text of part `part` of `text`, if it has one. */
function between(text: string, part: ReportPart): string | undefined {
  const from = text.indexOf(begin(part));
  const to = text.indexOf(end(part));
  return from >= 0 && to > from ? text.slice(from + begin(part).length, to).trim() : undefined;
}

function readParts(text: string): Partial<Record<ReportPart, string>> {
  const parts: Partial<Record<ReportPart, string>> = {};
  for (const part of partNames) {
    const body = between(text, part);
    if (body !== undefined) parts[part] = body;
  }
  if (Object.keys(parts).length === 0 && text.startsWith(title)) {
    parts['side-by-side'] = text.slice(title.length).trim();
  }
  return parts;
}
