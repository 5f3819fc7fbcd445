/**
 * `pnpm bench`: runs each scenario's cells against router, relay and Hive Gateway side by
 * side, over one nats-server and one set of subgraphs, prints the tables and writes
 * bench/RESULTS.md. `pnpm bench --help` for the options.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
} from './report.js';
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
  const results: CellResult[] = [];
  for (const cell of cells) {
    for (const target of options.targets) {
      let result: CellResult | undefined;
      // A cell that shared the machine with another job is run once more.
      for (let attempt = 1; attempt <= 2 && !(result && quiet(result)); attempt++) {
        if (!(await quietMachine())) log('the machine is busy with something else');
        log(
          `${cell.scenario} / ${cell.label} / ${target}${attempt > 1 ? ' (again: other jobs ran)' : ''}`,
        );
        result = await runCell(cell, target, { backend, workDir, options });
        log(summary(result));
      }
      results.push(result!);
    }
  }
  const input = {
    options,
    command: ['pnpm bench', ...argv].join(' '),
    startedAt,
    elapsedMs: Date.now() - startedAt.getTime(),
    results,
  };
  console.log(`\n${consoleReport(input)}`);
  const out = resolve(repoRoot, options.out);
  writeFileSync(out, markdownReport(input));
  log(`wrote ${out}`);
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
  const l = r.load!;
  const p99 = l.received ? `${l.latency.p99.toFixed(1)} ms` : '–';
  return `  ${Math.round(deliveriesPerSecond(r))} deliveries/s, p99 ${p99}, missing ${l.missing}, CPU % server ${r.cpu?.server.toFixed(0)}, load ${r.cpu?.load.toFixed(0)}, other ${r.cpu?.other.toFixed(0)}`;
}
