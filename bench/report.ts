import type { CellResult } from './cell.js';
import { codeVersion, fixed, int, loadCpu, loadSaturated, machine, mb, oneLine } from './format.js';
import type { BenchOptions } from './options.js';
import type { TargetName } from './targets/target.js';

export interface ReportInput {
  options: BenchOptions;
  command: string;
  startedAt: Date;
  elapsedMs: number;
  results: CellResult[];
}

export function deliveriesPerSecond(r: CellResult): number {
  const load = r.load;
  if (!load || load.windowMs <= 0) return Number.NaN;
  return load.deliveredInWindow / (load.windowMs / 1000);
}

/**
 * Subgraph requests per event delivered: requests in the window ÷ (results in the window ÷
 * subscribers per subject). An overloaded server is charged only for the events it delivered.
 */
export function requestsPerEvent(r: CellResult): number {
  const load = r.load;
  if (!load || r.subgraphRequests === undefined || load.deliveredInWindow === 0) return Number.NaN;
  const perSubject = r.cell.subscribers / Math.min(r.cell.rooms.length, r.cell.subscribers);
  return r.subgraphRequests / (load.deliveredInWindow / perSubject);
}

export function idleBytesPerSubscription(r: CellResult): number {
  if (!r.idle) return Number.NaN;
  return (r.idle.rssAfter - r.idle.rssBefore) / (r.idle.subscribers - r.idle.baseline);
}

function deliveryTable(results: CellResult[]): string {
  const header =
    '| scenario | cell | target | events/s | deliveries/s | p50 ms | p99 ms | max ms | subgraph req/event | server CPU % | server peak RSS MB | load CPU % | subgraphs CPU % | NATS CPU % | other CPU % | missing | dup | out of order | errors |';
  const rows = results
    .filter((r) => r.cell.mode === 'deliver')
    .map((r) => {
      if (r.error)
        return `| ${r.cell.scenario} | ${r.cell.label} | ${r.target} | failed: ${oneLine(r.error)} ||||||||||||||||`;
      const l = r.load!;
      const ms = (value: number): string => (l.received ? fixed(value) : '–');
      return `| ${r.cell.scenario} | ${r.cell.label} | ${r.target} | ${r.cell.burst ? 'burst' : fixed(r.cell.rate, 0)} | ${int(deliveriesPerSecond(r))} | ${ms(l.latency.p50)} | ${ms(l.latency.p99)} | ${ms(l.latency.max)} | ${fixed(requestsPerEvent(r), 2)} | ${fixed(r.cpu?.server, 0)} | ${mb(r.peakRss)} | ${loadCpu(r.cpu?.load)} | ${fixed(r.cpu?.subgraphs, 0)} | ${fixed(r.cpu?.nats, 0)} | ${fixed(r.cpu?.other, 0)} | ${int(l.missing)} | ${int(l.duplicates)} | ${int(l.reordered)} | ${int(l.errors + l.incomplete + l.misrouted + l.ended)} |`;
    });
  return [header, header.replace(/[^|]+/g, ' --- '), ...rows].join('\n');
}

function idleTable(results: CellResult[]): string {
  const header =
    '| cell | target | RSS before MB | RSS after MB | KB per idle subscription | server peak RSS MB |';
  const rows = results
    .filter((r) => r.cell.mode === 'idle')
    .map((r) =>
      r.error
        ? `| ${r.cell.label} | ${r.target} | failed: ${oneLine(r.error)} ||||`
        : `| ${r.cell.label} | ${r.target} | ${mb(r.idle?.rssBefore)} | ${mb(r.idle?.rssAfter)} | ${fixed(idleBytesPerSubscription(r) / 1024)} | ${mb(r.peakRss)} |`,
    );
  return [header, header.replace(/[^|]+/g, ' --- '), ...rows].join('\n');
}

function ratioTable(results: CellResult[]): string {
  const header = '| scenario | cell | router/relay deliveries/s | router/hive deliveries/s |';
  const rows: string[] = [];
  for (const r of results.filter((r) => r.target === 'router' && r.cell.mode === 'deliver')) {
    const peer = (name: TargetName): number => {
      const other = results.find((o) => o.cell === r.cell && o.target === name);
      return other ? deliveriesPerSecond(r) / deliveriesPerSecond(other) : Number.NaN;
    };
    rows.push(
      `| ${r.cell.scenario} | ${r.cell.label} | ${fixed(peer('relay'), 2)} | ${fixed(peer('hive'), 1)} |`,
    );
  }
  return [header, header.replace(/[^|]+/g, ' --- '), ...rows].join('\n');
}

/** The issue's targets, each with pass, miss, or why it could not be judged. */
export function targetChecks(results: CellResult[], options: BenchOptions): string[][] {
  const find = (
    target: TargetName,
    scenario: string,
    subscribers: number,
  ): CellResult | undefined =>
    results.find(
      (r) =>
        r.target === target &&
        r.cell.scenario === scenario &&
        r.cell.subscribers === subscribers &&
        !r.error,
    );
  const verdict = (ok: boolean | undefined): string =>
    ok === undefined ? 'not run' : ok ? 'pass' : 'miss';
  const router1k = find('router', 'fan-out', 1000);
  const relay1k = find('relay', 'fan-out', 1000);
  const hive1k = find('hive', 'fan-out', 1000);
  const router1 = find('router', 'fan-out', 1);
  const router5k = find('router', 'fan-out', 5000);
  const routerBurst = find('router', 'saturate', 1000);
  const relayBurst = find('relay', 'saturate', 1000);
  const routerIdle = results.find(
    (r) => r.target === 'router' && r.cell.mode === 'idle' && !r.error,
  );

  const vsRelay =
    router1k && relay1k ? deliveriesPerSecond(router1k) / deliveriesPerSecond(relay1k) : undefined;
  const vsHive =
    router1k && hive1k ? deliveriesPerSecond(router1k) / deliveriesPerSecond(hive1k) : undefined;
  const rpe1 = router1 ? requestsPerEvent(router1) : undefined;
  const rpe5k = router5k ? requestsPerEvent(router5k) : undefined;
  const p99 = router1k?.load?.received ? router1k.load.latency.p99 : undefined;
  const relayP99 = relay1k?.load?.received ? relay1k.load.latency.p99 : undefined;
  const burstVsRelay =
    routerBurst && relayBurst
      ? deliveriesPerSecond(routerBurst) / deliveriesPerSecond(relayBurst)
      : undefined;
  const idleKb = routerIdle ? idleBytesPerSubscription(routerIdle) / 1024 : undefined;
  const rate = router1k?.cell.rate ?? options.rate;
  const rateNote = rate === 100 ? '' : ` (run at ${fixed(rate, 0)} events/s, not 100)`;
  return [
    [
      'deliveries/s at 1,000 subscribers ≥ 0.6× relay',
      vsRelay === undefined ? '–' : `${fixed(vsRelay, 2)}×`,
      verdict(vsRelay === undefined ? undefined : vsRelay >= 0.6),
    ],
    [
      'deliveries/s at 1,000 subscribers ≥ 5× Hive',
      vsHive === undefined ? '–' : `${fixed(vsHive, 1)}×`,
      verdict(vsHive === undefined ? undefined : vsHive >= 5),
    ],
    [
      // Fewer at 5,000 passes too: a busy router batches several events into one fetch.
      'subgraph requests per event equal at 1 and 5,000 subscribers (or fewer at 5,000)',
      rpe1 === undefined || rpe5k === undefined ? '–' : `${fixed(rpe1, 2)} vs ${fixed(rpe5k, 2)}`,
      verdict(rpe1 === undefined || rpe5k === undefined ? undefined : rpe5k <= rpe1 + 0.05),
    ],
    [
      `p99 < 50 ms at 1,000 subscribers, 100 events/s${rateNote}`,
      p99 === undefined ? '–' : `${fixed(p99)} ms`,
      verdict(p99 === undefined ? undefined : p99 < 50),
    ],
    [
      'saturated deliveries/s at 1,000 subscribers ≥ 0.85× relay (issue 12)',
      burstVsRelay === undefined ? '–' : `${fixed(burstVsRelay, 2)}×`,
      verdict(burstVsRelay === undefined ? undefined : burstVsRelay >= 0.85),
    ],
    [
      `p99 ≤ 2× relay's and < 20 ms at 1,000 subscribers, 100 events/s${rateNote} (issue 12)`,
      p99 === undefined || relayP99 === undefined
        ? '–'
        : `${fixed(p99)} ms vs ${fixed(relayP99)} ms`,
      verdict(
        p99 === undefined || relayP99 === undefined ? undefined : p99 <= 2 * relayP99 && p99 < 20,
      ),
    ],
    [
      '≤ 20 KB router memory per idle subscription',
      idleKb === undefined ? '–' : `${fixed(idleKb)} KB`,
      verdict(idleKb === undefined ? undefined : idleKb <= 20),
    ],
  ];
}

/** Whether the run had any of the scenarios these tables report (fan-out, spread, mixed, idle). */
export const sideBySide = (results: readonly CellResult[]): boolean =>
  results.some((r) => r.cell.mode === 'deliver' || r.cell.mode === 'idle');

/** The tables printed at the end of a run. */
export function consoleReport(input: ReportInput): string {
  const checks = targetChecks(input.results, input.options);
  return [
    deliveryTable(input.results),
    '',
    idleTable(input.results),
    '',
    ratioTable(input.results),
    '',
    ...checks.map(([what, value, verdict]) => `${verdict!.padEnd(7)} ${what}: ${value}`),
  ].join('\n');
}

/**
 * The side-by-side part of bench/RESULTS.md: machine, command, date, per-cell numbers,
 * ratios, targets.
 */
export function markdownReport(input: ReportInput): string {
  const { options } = input;
  const checks = targetChecks(input.results, options);
  return `Produced by \`${input.command}\` on ${input.startedAt.toISOString()} (took ${fixed(input.elapsedMs / 60_000)} min).
Rerun with the same command; \`pnpm bench --help\` lists the options.

- **Machine:** ${machine()}
- **Code:** ${codeVersion()}
- **Settings:** ${options.durationMs / 1000} s measured per cell after ${options.warmupMs / 1000} s of warm-up, up to ${options.drainMs / 1000} s drain;
  fan-out and mixed at ${options.rate} events/s (fan-out capped at ${int(options.maxDeliveries)} offered deliveries/s),
  saturate: ${options.saturateSubscribers} subscribers, a warm-up burst then a measured burst of ${options.burst} events,
  spread at ${options.spreadRate} events/s over ${options.spreadRooms} subjects.

## Targets (issues 4 and 12)

| target | measured | verdict |
| --- | --- | --- |
${checks.map((row) => `| ${row.join(' | ')} |`).join('\n')}

## Deliveries

${deliveryTable(input.results)}

## Ratios

${ratioTable(input.results)}

## Idle cost

${idleTable(input.results)}

## How it is measured

- Before each cell the run waits (up to 60 s) for the machine to be idle; the **other CPU %** column shows
  what ran besides the benchmark during the cell, and a cell where that passed 25% is run once more.
- Every cell starts its server afresh: **router** is \`node --import tsx router/src/cli.ts\`, **relay** is
  \`bench/relay.ts\` (NATS → graphql-transport-ws, no GraphQL, no subgraph calls: the ceiling), **hive** is
  Hive Gateway's CLI serving the supergraph of \`pnpm router compose\`, its \`messageAdded\` bound to NATS with
  \`@resolveTo(pubsubTopic:)\` (bench/hive/gateway.config.ts; subjects \`hive:room.<id>.messages\`).
  All three share one nats-server and the three example subgraphs, which run in the orchestrator process.
- The load process (bench/load.ts, its own process) opens one WebSocket per subscriber and publishes the
  events, so publish and receipt times come from one clock. Each event is \`{"__typename":"Message","id":…}\`
  for a message created before the run, a different one per event, so every delivery is matched to its publish
  by id; missing and duplicate deliveries are counted per subscriber. Before measuring, every subscriber must
  have received a warm-up event, then warm-up events flow at the cell's rate.
- **deliveries/s** = results received ÷ time from the first measured publish to the last measured receipt
  (or to the end of the drain if some never came); an overloaded server's late warm-up results count too,
  since they are work it did in the window.
  **Latency** is publish → receipt of the measured events (– when none arrived: the server was still busy
  with warm-up events). **missing** = measured deliveries not received by the end of the drain.
  **subgraph req/event** = HTTP requests that reached the subgraphs in the window ÷ events' worth of results
  delivered in it (results ÷ subscribers per subject), counted at the subgraphs' HTTP servers (Node's
  \`http.server.request.start\` diagnostics channel), the same way for every target.
  **CPU** is utime + stime from /proc over the measured window, in % of one core: server, load process,
  subgraphs (the orchestrator process) and nats-server; **other** is the rest of the machine (from /proc/stat):
  well above a few % means something else ran meanwhile and the cell is suspect.
  **Peak RSS** is the server's highest VmRSS over the cell. **errors** = results with GraphQL errors, without
  the joined fields, sent to the wrong subscriber, or subscriptions that ended early.
  ⚠ marks a load process above ${loadSaturated}% of a core: there the client, not the server, may be the limit.
- **saturate** publishes its events all at once (a warm-up burst first), so nothing paces the server:
  deliveries/s is what it sustains, and p99 is mostly how long the last subscribers wait for the burst.
  **out of order** = measured results that reached a subscriber after a later event's result.
- With a fixed offered rate, a ratio of 1.00 means both servers delivered everything offered; compare their
  latency and CPU then. A ratio says more where one of them falls behind.
- **Idle cost**: each subscriber has its own connection and its own room (the worst case: one NATS subscription
  per subscription for every target); RSS is read after 1% of the subscriptions are open (code loaded, caches
  built) and again with all of them, each time after 2 s of quiet (median of five readings);
  KB per subscription = difference ÷ subscriptions added.
`;
}
