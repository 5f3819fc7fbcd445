/** The query scenario's part of the report: throughput and latency per operation and gateway. */
import type { CellResult } from './cell.js';
import { codeVersion, fixed, int, loadCpu, machine, mb, oneLine } from './format.js';
import { answerFaults } from './load/query-check.js';
import type { ReportInput } from './report.js';
import type { TargetName } from './targets/target.js';

/** The targets: the router's requests/s over each peer's, per operation. */
const targets = [
  { peer: 'apollo', name: 'Apollo Gateway', atLeast: 1.5 },
  { peer: 'hive', name: 'Hive Gateway', atLeast: 1 },
] as const satisfies readonly { peer: TargetName; name: string; atLeast: number }[];

export function requestsPerSecond(r: CellResult): number {
  const q = r.query;
  if (!q || q.windowMs <= 0) return Number.NaN;
  return q.answered / (q.windowMs / 1000);
}

/** Wrong answers of every kind (network, status, body, errors, data). */
export function faults(r: CellResult): number {
  return r.query ? answerFaults.reduce((sum, f) => sum + r.query!.faults[f], 0) : Number.NaN;
}

const queryResults = (results: CellResult[]): CellResult[] =>
  results.filter((r) => r.cell.mode === 'query');

function ratio(results: CellResult[], router: CellResult, peer: TargetName): number {
  const other = results.find((o) => o.cell === router.cell && o.target === peer && !o.error);
  return other && !router.error ? requestsPerSecond(router) / requestsPerSecond(other) : Number.NaN;
}

function table(header: string[], rows: string[][]): string {
  return [header, header.map(() => '---'), ...rows]
    .map((row) => `| ${row.join(' | ')} |`)
    .join('\n');
}

function cellTable(results: CellResult[]): string {
  const header = [
    'operation',
    'target',
    'requests/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'errors',
    'subgraph req/query',
    'server CPU %',
    'server peak RSS MB',
    'load CPU %',
    'subgraphs CPU %',
    'other CPU %',
  ];
  const rows = queryResults(results).map((r) => {
    if (r.error)
      return [
        r.cell.label,
        r.target,
        `failed: ${oneLine(r.error)}`,
        ...header.slice(3).map(() => ''),
      ];
    const q = r.query!;
    const perQuery = q.answered > 0 ? (r.subgraphRequests ?? Number.NaN) / q.answered : Number.NaN;
    return [
      r.cell.label,
      r.target,
      int(requestsPerSecond(r)),
      fixed(q.latency.p50, 2),
      fixed(q.latency.p99, 2),
      fixed(q.latency.max, 1),
      int(faults(r)),
      fixed(perQuery, 2),
      fixed(r.cpu?.server, 0),
      mb(r.peakRss),
      loadCpu(r.cpu?.load),
      fixed(r.cpu?.subgraphs, 0),
      fixed(r.cpu?.other, 0),
    ];
  });
  return table(header, rows);
}

function ratioTable(results: CellResult[]): string {
  const routers = queryResults(results).filter((r) => r.target === 'router');
  return table(
    ['operation', ...targets.map((t) => `router/${t.peer} requests/s`)],
    routers.map((r) => [r.cell.label, ...targets.map((t) => fixed(ratio(results, r, t.peer), 2))]),
  );
}

/** Per operation and peer: the target, the ratio measured, and pass, miss or not run. */
export function queryTargetChecks(results: CellResult[]): string[][] {
  return queryResults(results)
    .filter((r) => r.target === 'router')
    .flatMap((r) =>
      targets.map((t) => {
        const measured = ratio(results, r, t.peer);
        const run = Number.isFinite(measured);
        return [
          `${r.cell.label}: requests/s ≥ ${t.atLeast}× ${t.name}`,
          run ? `${fixed(measured, 2)}×` : '–',
          !run ? 'not run' : measured >= t.atLeast && faults(r) === 0 ? 'pass' : 'miss',
        ];
      }),
    );
}

/** One line per cell for the run's log. */
export function querySummary(r: CellResult): string {
  const q = r.query!;
  const fault = q.firstFault ? `; first wrong answer: ${oneLine(q.firstFault)}` : '';
  return `  ${int(requestsPerSecond(r))} requests/s, p50 ${fixed(q.latency.p50, 2)} ms, p99 ${fixed(q.latency.p99, 2)} ms, errors ${int(faults(r))}, CPU % server ${fixed(r.cpu?.server, 0)}, load ${fixed(r.cpu?.load, 0)}, other ${fixed(r.cpu?.other, 0)}${fault}`;
}

export function queryConsoleReport(input: ReportInput): string {
  return [
    cellTable(input.results),
    '',
    ratioTable(input.results),
    '',
    ...queryTargetChecks(input.results).map(
      ([what, value, verdict]) => `${verdict!.padEnd(7)} ${what}: ${value}`,
    ),
  ].join('\n');
}

export function queryMarkdownReport(input: ReportInput): string {
  const { options } = input;
  return `## Queries

Produced by \`${input.command}\` on ${input.startedAt.toISOString()} (took ${fixed(input.elapsedMs / 60_000)} min).

- **Machine:** ${machine()}
- **Code:** ${codeVersion()}
- **Settings:** ${options.queryConcurrency} requests in flight, ${options.durationMs / 1000} s measured per cell after ${options.warmupMs / 1000} s of the same load.

### Targets (issue 12)

${table(['target', 'measured', 'verdict'], queryTargetChecks(input.results))}

### Requests

${cellTable(input.results)}

### Ratios

${ratioTable(input.results)}

### How it is measured

- Each cell starts its server afresh: **router** as in the other scenarios, **hive** is Hive Gateway's CLI
  and **apollo** is Apollo Gateway in Apollo Server's standalone server (bench/apollo/gateway.ts), both serving
  the supergraph of \`pnpm router compose\` (Apollo with its \`@requiresScopes\` link no longer marked
  \`for: SECURITY\`, which it refuses since it cannot enforce it; no query here reads a scoped field), all three in production mode (\`NODE_ENV=production\`) over the
  same three subgraphs (in the orchestrator process).
- The load process keeps ${options.queryConcurrency} HTTP POST requests in flight on keep-alive connections,
  each client sending the cell's next request as soon as it has its answer (bench/load/queries.ts). The
  operations (bench/query-operations.ts): **3 subgraphs + entity join** reads \`messages\` (10 messages), \`user\`
  and \`scrapeJob\` at the root and each message's author through \`Message.user\`; **@requires** reads one
  message and its author, \`Message.user\` requiring \`userId\` from the message subgraph; **@requires, 100
  messages in turn** is the same with another message each request, so no two requests in flight are alike.
- Every answer is checked (bench/load/query-check.ts): status 200, no \`errors\`, and \`data\` equal to what
  the fixture wrote to the subgraphs (bench/query-fixture.ts). **errors** counts the wrong answers of the
  measured window; the log names the first.
- **requests/s** = answers to requests sent in the window ÷ time from its start to the last of them.
  **Latency** is send → complete answer. **subgraph req/query** = HTTP requests that reached the subgraphs in
  the window ÷ answers: below 1, identical subgraph requests in flight were shared (the router's
  \`dedupeSubgraphQueries\`, Hive Gateway's deduplication; Apollo Gateway shares none), which clients sending
  the same request make the most of (the varied cell leaves nothing identical to share). **CPU** and **peak RSS** as in the other parts. The subgraphs share the
  machine's two cores with the server and the load process, so a server that needs less CPU per request, or
  fewer subgraph requests, leaves more to the subgraphs. Before each cell the run waits (up to 60 s) for the
  machine to be idle, and a cell with **other CPU %** above 25 is run once more; the second attempt is kept.
`;
}
