/** The resume scenario's tables, target and method: its own part of bench/RESULTS.md. */
import type { CellResult } from './cell.js';
import { codeVersion, fixed, int, loadCpu, machine, mb, oneLine } from './format.js';
import type { ResumeResult, ResumeWindow } from './load/protocol.js';
import type { ReportInput } from './report.js';

/** Live p99 while clients resume may be at most this many times the p99 without. */
const maxDegradation = 2;

const windowNames: Record<ResumeWindow, string> = {
  baseline: 'baseline: live subscribers only',
  joining: 'resumers joining, then leaving',
  away: 'resumers away',
  'catch-up': 'resumers catching up',
  after: 'all caught up',
};

const resumeResults = (results: readonly CellResult[]): CellResult[] =>
  results.filter((r) => r.cell.mode === 'resume');

/** Live p99 while the resumers catch up ÷ live p99 before any resumer; NaN if unknown. */
export function liveDegradation(r: CellResult): number {
  const live = r.load?.resume?.live;
  if (!live || !live.baseline.receipts || !live['catch-up'].receipts) return Number.NaN;
  return live['catch-up'].p99 / live.baseline.p99;
}

/** Subgraph requests while the resumers caught up ÷ results of missed events they received. */
export function requestsPerReplayedEvent(r: CellResult): number {
  const replayed = r.load?.resume?.replayed;
  if (!replayed || r.subgraphRequests === undefined) return Number.NaN;
  return r.subgraphRequests / replayed;
}

/** One line per resume cell, for the log as each cell ends. */
export function resumeSummary(r: CellResult): string {
  const resume = r.load!.resume!;
  return `  catch-up p99 ${fixed(resume.catchUp.p99)} ms (${resume.caughtUp}/${resume.resumers} caught up), live p99 ${fixed(resume.live.baseline.p99)} → ${fixed(resume.live['catch-up'].p99)} ms (${fixed(liveDegradation(r), 2)}×), ${fixed(requestsPerReplayedEvent(r), 3)} subgraph requests per replayed event; resumers missing ${missingReplayed(resume)} replayed, ${missingLive(resume)} live, dup ${resume.duplicates}; live subscribers missing ${r.load!.missing}`;
}

function checks(results: readonly CellResult[]): string[][] {
  return resumeResults(results).map((r) => {
    const ratio = liveDegradation(r);
    const live = r.load?.resume?.live;
    return [
      `live p99 while ${int(r.load?.resume?.resumers ?? r.cell.resume?.resumers)} clients resume ≤ ${maxDegradation}× the same run's before they came`,
      r.error || !live || Number.isNaN(ratio)
        ? '–'
        : `${fixed(ratio, 2)}× (${fixed(live['catch-up'].p99)} vs ${fixed(live.baseline.p99)} ms)`,
      r.error || Number.isNaN(ratio) ? 'not run' : ratio <= maxDegradation ? 'pass' : 'miss',
    ];
  });
}

function resumerTable(results: readonly CellResult[]): string {
  const header =
    '| cell | behind | caught up | catch-up p50 ms | p99 ms | max ms | all caught up ms | replayed results | subgraph requests | subgraph req per replayed event | missing: replayed | missing: live | dup | out of order | errors |';
  const rows = resumeResults(results).map((r) => {
    const resume = r.load?.resume;
    if (r.error || !resume)
      return `| ${r.cell.label} | failed: ${oneLine(r.error ?? '')} ||||||||||||`;
    const behind =
      resume.behind.min === resume.behind.max
        ? int(resume.behind.min)
        : `${int(resume.behind.min)}–${int(resume.behind.max)}`;
    return `| ${r.cell.label} | ${behind} | ${int(resume.caughtUp)} / ${int(resume.resumers)} | ${fixed(resume.catchUp.p50)} | ${fixed(resume.catchUp.p99)} | ${fixed(resume.catchUp.max)} | ${resume.allCaughtUpMs < 0 ? '–' : fixed(resume.allCaughtUpMs, 0)} | ${int(resume.replayed)} | ${int(r.subgraphRequests)} | ${fixed(requestsPerReplayedEvent(r), 3)} | ${missingReplayed(resume)} | ${missingLive(resume)} | ${int(resume.duplicates)} | ${int(resume.outOfOrder)} | ${int(resume.errors + resume.incomplete + resume.ended)} |`;
  });
  return [header, header.replace(/[^|]+/g, ' --- '), ...rows].join('\n');
}

const span = ({ first, last }: { first: number; last: number }): string =>
  first === last ? `${first}` : `${first}–${last}`;

/** Missed events that never came, and which (1 = the first after the cursor). */
function missingReplayed({ missing, missingLive, missingReplayedAt }: ResumeResult): string {
  const count = missing - missingLive;
  return count === 0 ? '0' : `${int(count)} (missed event ${span(missingReplayedAt)})`;
}

/** Live events that never came, and which (1 = the first published after the resubscribe). */
function missingLive({ missingLive, missingLiveAfter }: ResumeResult): string {
  return missingLive === 0 ? '0' : `${int(missingLive)} (event ${span(missingLiveAfter)} after it)`;
}

function liveTable(results: readonly CellResult[]): string {
  const header =
    '| cell | window (by publish time) | events | p50 ms | p99 ms | max ms | subgraph requests | server CPU % | load CPU % | subgraphs CPU % | NATS CPU % | other CPU % |';
  const rows: string[] = [];
  for (const r of resumeResults(results)) {
    const live = r.load?.resume?.live;
    if (r.error || !live) continue;
    for (const [name, label] of Object.entries(windowNames) as [ResumeWindow, string][]) {
      const w = live[name];
      // CPU and requests are read over the two windows the target compares.
      const measured =
        name === 'baseline'
          ? r.baseline
          : name === 'catch-up' && r.cpu
            ? { cpu: r.cpu, subgraphRequests: r.subgraphRequests }
            : undefined;
      const ms = (value: number): string => (w.receipts ? fixed(value) : '–');
      const cpu = measured?.cpu;
      rows.push(
        `| ${r.cell.label} | ${label} | ${int(w.events)} | ${ms(w.p50)} | ${ms(w.p99)} | ${ms(w.max)} | ${int(measured?.subgraphRequests)} | ${fixed(cpu?.server, 0)} | ${cpu ? loadCpu(cpu.load) : '–'} | ${fixed(cpu?.subgraphs, 0)} | ${fixed(cpu?.nats, 0)} | ${fixed(cpu?.other, 0)} |`,
      );
    }
  }
  return [header, header.replace(/[^|]+/g, ' --- '), ...rows].join('\n');
}

/** ` (12 × SUBGRAPH_TIMEOUT, …)`, or nothing when there are none. */
function counts(byKey: Record<string, number>): string {
  const entries = Object.entries(byKey).map(([key, count]) => `${int(count)} × ${key}`);
  return entries.length ? ` (${oneLine(entries.join(', '))})` : '';
}

/** The whole cell: the live subscribers' losses, resumed subscriptions that ended, memory. */
function totals(results: readonly CellResult[]): string {
  return resumeResults(results)
    .filter((r) => !r.error && r.load?.resume)
    .map((r) => {
      const l = r.load!;
      const { ended, endReasons, errorCodes } = l.resume!;
      return [
        `- ${r.cell.label}: live subscribers over the whole cell (${int(l.published)} events) missing ${int(l.missing)}, dup ${int(l.duplicates)}, errors ${int(l.errors + l.incomplete + l.misrouted + l.ended)}${counts(l.errorCodes)};`,
        `  resumers' results with errors ${int(l.resume!.errors)}${counts(errorCodes)}; resumed subscriptions that ended early ${int(ended)}${counts(endReasons)};`,
        `  router peak RSS ${mb(r.peakRss)} MB.`,
      ].join('\n');
    })
    .join('\n');
}

/** Why the cells were run on the router alone. */
const notRun = (results: readonly CellResult[]): string[] => [
  ...new Set(resumeResults(results).map((r) => `Router only: ${r.cell.only?.why ?? ''}.`)),
];

/** What is printed at the end of a run with the resume scenario. */
export function resumeConsoleReport(input: ReportInput): string {
  return [
    resumerTable(input.results),
    '',
    liveTable(input.results),
    '',
    totals(input.results),
    ...notRun(input.results),
    '',
    ...checks(input.results).map(
      ([what, value, verdict]) => `${verdict!.padEnd(7)} ${what}: ${value}`,
    ),
  ].join('\n');
}

/** The resume part of bench/RESULTS.md. */
export function resumeMarkdownReport(input: ReportInput): string {
  const { options } = input;
  return `## Resume: durable subscriptions catching up (router only)

Produced by \`${input.command}\` on ${input.startedAt.toISOString()} (took ${fixed(input.elapsedMs / 60_000)} min).

- **Machine:** ${machine()}
- **Code:** ${codeVersion()}
- **Settings:** ${int(options.resumeLive)} live subscribers and ${options.resumers.map(int).join(' or ')} resumers on one room, ${fixed(options.resumeRate, 0)} events/s throughout,
  resumers ${int(options.resumeBehind)} events behind; baseline window ${options.durationMs / 1000} s after ${options.warmupMs / 1000} s of warm-up; at the end, waits
  for late deliveries until none has come for ${options.drainMs / 1000} s (at most 60 s).
${notRun(input.results)
  .map((line) => `- ${line}`)
  .join('\n')}

| target | measured | verdict |
| --- | --- | --- |
${checks(input.results)
  .map((row) => `| ${row.join(' | ')} |`)
  .join('\n')}

### Resumers

${resumerTable(input.results)}

### Live subscribers, window by window

${liveTable(input.results)}

${totals(input.results)}

### How it is measured

- The router reads \`messageAdded\` from the JetStream stream \`chat\` (schemas/events.graphql; the bench's
  router.yaml declares \`chat\` under \`nats.streams\`, file storage, and the router creates it); the stream is
  deleted after the cell, so the other scenarios, on core NATS, are unaffected. All subscribers use operation 0
  (\`{ id text user { name } }\`) on one room, so the live subscribers and the resumers share one fan-out group.
- One load process (bench/load/resume.ts) publishes events at a steady rate from the baseline to the end, each
  a different seed message, matched by id to every receipt. The live subscribers stay throughout. After the
  baseline window the resumers subscribe (no cursor), each receives events, and all disconnect on receiving the
  same event; they open new connections while ${int(options.resumeBehind)} more events are published, then, right after the
  last of those is published, all send \`subscribe\` with \`extensions: { cursor }\` of the last event they got,
  in one burst, while the live events go on.
- **Catch-up** per resumer: from its \`subscribe\` to having received every event it missed (the last one is the
  event published just before it resubscribed). **behind**: events missed when resubscribing.
  **missing / dup / out of order** count every event after each resumer's cursor up to the last one published,
  once deliveries have stopped: **missing: replayed** are missed events (published before the resubscribe) that
  never came, **missing: live** events published after it that never came (which ones: 1 is the first published
  after the resubscribe), so the hand-over from the replay to the live group is checked too. A result for the
  cursor's own event or an earlier one is a duplicate.
- **Windows**: each live event is filed under what the resumers were doing when it was published; its latency is
  publish → receipt by the live subscribers. **Resumers catching up** runs from the event published just before
  the resubscribe until every resumer has caught up or can no longer (it got a later event first: results come in
  order, so the missed event it lacks will not come). The target compares the live p99 there with the **baseline**
  (the same live subscribers, no resumers, earlier in the same run).
- **Subgraph requests** are counted at the subgraphs' HTTP servers while the resumers catch up (the window opens
  at most two events before the resubscribe), the live events' fetches included; **per replayed event** =
  those requests ÷ the missed events' results the resumers received. Resolving each replayed event on its own
  would cost 2 (one \`_entities\` request to the message subgraph, one to the user subgraph), like a live event
  in the baseline. **CPU** as in the side-by-side tables, over the baseline and the catch-up windows.
- What the numbers say, and why: README, section Benchmarks.
`;
}
