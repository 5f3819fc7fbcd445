/**
 * `pnpm bench`: runs each scenario's cells against router, relay and Hive Gateway side by
 * side (the resume scenario against the router alone), over one nats-server and one set of
 * subgraphs, prints the tables and updates bench/RESULTS.md. `pnpm bench --help` for the
 * options.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startBackend, type Backend } from './backend.js';
import { runCell, type CellResult } from './cell.js';
import { parseOptions, usage } from './options.js';
import { quietMachine } from './proc-stats.js';
import {
  consoleReport,
  deliveriesPerSecond,
  idleBytesPerSubscription,
  markdownReport,
  sideBySide,
  type ReportInput,
} from './report.js';
import { updateResults } from './results-file.js';
import { resumeConsoleReport, resumeMarkdownReport, resumeSummary } from './resume-report.js';
import { createQueryFixture, type QueryFixture } from './query-fixture.js';
import { queryConsoleReport, queryMarkdownReport, querySummary } from './query-report.js';
import { whyNot } from './query-scenario.js';
import { cellsFor, eventsNeeded } from './scenarios.js';
import { repoRoot } from './targets/child.js';

const argv = process.argv.slice(2);
const options = parseOptions(argv);
if (!options) {
  console.log(usage);
  process.exit(0);
}

/** Busier than this (% of one core, outside the benchmark's processes) marks a cell suspect. */
const otherCpuLimit = 25;

const startedAt = new Date();
const cells = cellsFor(options);
const workDir = mkdtempSync(join(tmpdir(), 'edfs-bench-'));
let backend: Backend | undefined;
const cleanUp = async (): Promise<void> => {
  await backend?.close();
  rmSync(workDir, { recursive: true, force: true });
};
// Children (servers, load processes) are killed by the exit hook in targets/child.ts.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  const log = (line: string): void =>
    console.error(`[bench ${(performance.now() / 1000).toFixed(0).padStart(4)} s] ${line}`);
  log(`${cells.length} cells × ${options.targets.join(', ')}; starting nats-server and subgraphs`);
  backend = await startBackend({ seedMessages: eventsNeeded(cells, options.durationMs) });
  const queries: QueryFixture | undefined = cells.some((c) => c.mode === 'query')
    ? await createQueryFixture(backend)
    : undefined;
  const results: CellResult[] = [];
  for (const cell of cells) {
    const targets = options.targets.filter((t) => whyNot(cell, t) === undefined);
    for (const t of options.targets.filter((t) => !targets.includes(t)))
      log(`${cell.scenario} / ${cell.label}: not on ${t}: ${whyNot(cell, t)}`);
    for (const target of targets) {
      let result: CellResult | undefined;
      // A cell that shared the machine with another job is run once more.
      for (let attempt = 1; attempt <= 2 && !(result && quiet(result)); attempt++) {
        if (!(await quietMachine())) log('the machine is busy with something else');
        log(
          `${cell.scenario} / ${cell.label} / ${target}${attempt > 1 ? ' (again: other jobs ran)' : ''}`,
        );
        result = await runCell(cell, target, {
          backend,
          workDir,
          options,
          ...(queries && { queries }),
        });
        log(summary(result));
      }
      results.push(result!);
    }
  }
  const input: ReportInput = {
    options,
    command: ['pnpm bench', ...argv].join(' '),
    startedAt,
    elapsedMs: Date.now() - startedAt.getTime(),
    results,
  };
  const resumed = results.some((r) => r.cell.mode === 'resume');
  const queried = results.some((r) => r.cell.mode === 'query');
  if (sideBySide(results)) console.log(`\n${consoleReport(input)}`);
  if (resumed) console.log(`\n${resumeConsoleReport(input)}`);
  if (queried) console.log(`\n${queryConsoleReport(input)}`);
  const out = resolve(repoRoot, options.out);
  const { text, wrote, kept } = updateResults(
    existsSync(out) ? readFileSync(out, 'utf8') : undefined,
    [...new Set(results.map((r) => r.cell.scenario))],
    (part) =>
      part === 'resume'
        ? resumeMarkdownReport(input)
        : part === 'query'
          ? queryMarkdownReport(input)
          : markdownReport(input),
  );
  if (wrote.length > 0) {
    writeFileSync(out, text);
    log(`wrote the ${wrote.join(' and ')} part of ${out}`);
  }
  for (const part of kept) {
    log(
      `kept the ${part} part of ${out}: this run had only some of its scenarios (--out to write elsewhere)`,
    );
  }
} finally {
  await cleanUp();
}

function quiet(r: CellResult): boolean {
  return r.error !== undefined || r.cpu === undefined || !(r.cpu.other > otherCpuLimit);
}

function summary(r: CellResult): string {
  if (r.error) return `  failed: ${r.error.split('\n')[0]}`;
  if (r.idle)
    return `  ${(idleBytesPerSubscription(r) / 1024).toFixed(1)} KB per idle subscription`;
  if (r.load?.resume) return resumeSummary(r);
  if (r.query) return querySummary(r);
  const l = r.load!;
  const p99 = l.received ? `${l.latency.p99.toFixed(1)} ms` : '–';
  return `  ${Math.round(deliveriesPerSecond(r))} deliveries/s, p99 ${p99}, missing ${l.missing}, CPU % server ${r.cpu?.server.toFixed(0)}, load ${r.cpu?.load.toFixed(0)}, other ${r.cpu?.other.toFixed(0)}`;
}
