import { Random } from './random.js';

/** Where the attacks go: the router under test, on the loopback interface only. */
export interface FuzzTarget {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `http://127.0.0.1:<port>/graphql` */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/graphql` */
  readonly wsUrl: string;
}

/** Something the router did wrong; the suite fails on any. */
export type FindingKind =
  /** An uncaught exception or unhandled rejection: in production, the process ends. */
  | 'crash'
  /** The router neither answered nor closed within the attack's time. */
  | 'hang'
  /** A client's input reached an internal error path: 5xx, 1011/4500, "Unexpected error". */
  | 'internal-error'
  /** `GET /health` answered 503: the router lost NATS. */
  | 'unhealthy'
  /** A victim did not receive an event in time. */
  | 'victim';

export interface Finding {
  readonly kind: FindingKind;
  readonly detail: string;
  /** The attack whose input caused it, or the attacks that sent inputs just before. */
  readonly inputs: readonly string[];
}

/** What an attack uses to send its inputs and report what came back. */
export interface AttackContext {
  readonly rng: Random;
  readonly target: FuzzTarget;
  /** Aborted when the attack overruns its time or the campaign stops. */
  readonly signal: AbortSignal;
  /** Counts hostile inputs sent (frames, messages, requests) and notes what they were. */
  sent(label: string, count?: number): void;
  /**
   * Whether to send an input of these failure classes: false when `FUZZ_EXCLUDE` leaves one
   * out; otherwise the attack's next input is marked with them in reports.
   */
  include(tags: readonly string[]): boolean;
  /** Reports a wrong answer to this attack's input. */
  finding(kind: FindingKind, detail: string): void;
  /** Registers a socket or request to destroy if the attack overruns its time. */
  track<T extends { destroy(): unknown }>(resource: T): T;
}

export interface Attack {
  /** `<transport>:<what>`, e.g. `ws:flood`; the inputs are counted under it. */
  readonly name: string;
  /** How many times the default run plays it; `FUZZ_ITERATIONS` scales this. */
  readonly runs: number;
  run(context: AttackContext): Promise<void>;
}

export interface CampaignOptions {
  readonly seed: number;
  readonly target: FuzzTarget;
  /** Attacks running at once, so a 2-core machine copes. */
  readonly concurrency: number;
  /** Past this an attack is a hang: its sockets are destroyed. */
  readonly attackTimeoutMs: number;
  /** Tags of inputs to leave out. */
  readonly excluded: ReadonlySet<string>;
  /** Attack names, or `name#index`, to run alone; empty runs all. */
  readonly only: readonly string[];
}

/** One scheduled attack: its index seeds its random stream, so it replays alone. */
interface Run {
  readonly attack: Attack;
  readonly index: number;
}

/** Enough to cover the few milliseconds between an input and the failure it causes. */
const RECENT_INPUTS = 100;

/**
 * Plays attacks with bounded concurrency, counts their inputs by attack, and collects
 * findings, including crashes: an uncaught exception or unhandled rejection while it runs
 * is blamed on the inputs sent just before it.
 */
export class Campaign {
  readonly inputs = new Map<string, number>();
  /** Inputs of each known failure class sent, with the first of them. */
  readonly tagged = new Map<string, { count: number; first: string }>();
  readonly findings: Finding[] = [];
  readonly #options: CampaignOptions;
  /** Each running attack: how to cut it short, and what it sent last. */
  readonly #running = new Map<() => void, () => string>();
  readonly #recent: string[] = [];
  readonly #progress = new Set<{ readonly at: number; resolve(): void }>();
  #total = 0;
  #playing = false;
  #stopReason: string | undefined;
  #nextIndex = 0;

  constructor(options: CampaignOptions) {
    this.#options = options;
  }

  get total(): number {
    return this.#total;
  }

  /** Resolves once `count` inputs have been sent in all, or when the current play ends. */
  reached(count: number): Promise<void> {
    if (this.#total >= count || !this.#playing) return Promise.resolve();
    return new Promise((resolve) => this.#progress.add({ at: count, resolve }));
  }

  /** Why the campaign stopped early, if it did. */
  get stopReason(): string | undefined {
    return this.#stopReason;
  }

  /** Stops starting attacks and aborts the running ones (e.g. a victim lost an event). */
  stop(reason: string): void {
    this.#stopReason ??= reason;
    for (const cut of this.#running.keys()) cut();
  }

  /** What the running attacks sent last. */
  inFlight(): string[] {
    return [...this.#running.values()].map((describe) => describe());
  }

  /**
   * Records a finding caused by no one attack, with the inputs sent just before it, those
   * of known failure classes (tagged) first.
   */
  blame(kind: FindingKind, detail: string, inputs = this.recentInputs()): void {
    const tagged = inputs.filter((input) => input.endsWith(']'));
    this.findings.push({
      kind,
      detail,
      inputs: [...tagged, ...inputs.filter((i) => !tagged.includes(i))],
    });
  }

  /** The inputs sent most recently, newest first. */
  recentInputs(): string[] {
    return [...this.#recent].reverse();
  }

  /**
   * Plays each attack `round(runs * scale)` times (at least once), shuffled, until done,
   * stopped or past `deadline`. Attack indices continue across calls, so a warm-up and the
   * main run never share a random stream.
   */
  async play(attacks: readonly Attack[], scale: number, deadline: number): Promise<void> {
    const schedule: Run[] = [];
    const rng = new Random(this.#options.seed, this.#nextIndex);
    for (const attack of attacks) {
      const runs = Math.max(1, Math.round(attack.runs * scale));
      for (let i = 0; i < runs; i++) schedule.push({ attack, index: 0 });
    }
    rng.shuffle(schedule);
    const runs = schedule
      .map((run) => ({ ...run, index: this.#nextIndex++ }))
      .filter((run) => this.#selected(run));

    const onCrash = (error: unknown): void => this.blame('crash', describeError(error));
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    this.#playing = true;
    try {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < runs.length && this.#stopReason === undefined && Date.now() < deadline) {
          await this.#play(runs[next++]!);
        }
      };
      // Every worker finishes (and closes its connections) even when one fails.
      const workers = Array.from({ length: this.#options.concurrency }, () =>
        worker().catch((error: unknown) => {
          this.stop(`the suite failed: ${describeError(error)}`);
          throw error;
        }),
      );
      const failed = (await Promise.allSettled(workers)).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (next < runs.length && this.#stopReason === undefined) {
        this.stop(`the time budget ran out after ${next} of ${runs.length} attacks`);
      }
    } finally {
      this.#playing = false;
      for (const waiter of this.#progress) waiter.resolve();
      this.#progress.clear();
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
    }
  }

  #selected({ attack, index }: Run): boolean {
    const { only } = this.#options;
    return (
      only.length === 0 || only.includes(attack.name) || only.includes(`${attack.name}#${index}`)
    );
  }

  async #play({ attack, index }: Run): Promise<void> {
    const id = `${attack.name}#${index}`;
    let described = id;
    const abort = new AbortController();
    const resources = new Set<{ destroy(): unknown }>();
    const cut = (): void => {
      abort.abort();
      for (const resource of resources) resource.destroy();
    };
    this.#running.set(cut, () => described);
    if (this.#stopReason !== undefined) cut();
    const findings = this.findings;
    const { excluded, target, attackTimeoutMs, seed } = this.#options;
    const tags = new Set<string>();
    const context: AttackContext = {
      rng: new Random(seed, index),
      target,
      signal: abort.signal,
      sent: (label, count = 1) => {
        described = `${id} ${label}${tags.size > 0 ? ` [${[...tags].join(', ')}]` : ''}`;
        for (const tag of tags) {
          const seen = this.tagged.get(tag) ?? { count: 0, first: described };
          this.tagged.set(tag, { ...seen, count: seen.count + 1 });
        }
        tags.clear();
        this.inputs.set(attack.name, (this.inputs.get(attack.name) ?? 0) + count);
        this.#total += count;
        for (const waiter of this.#progress) {
          if (this.#total < waiter.at) continue;
          this.#progress.delete(waiter);
          waiter.resolve();
        }
        if (this.#recent.at(-1) !== described) this.#recent.push(described);
        if (this.#recent.length > RECENT_INPUTS) this.#recent.shift();
      },
      include: (of) => {
        if (of.some((tag) => excluded.has(tag))) return false;
        for (const tag of of) tags.add(tag);
        return true;
      },
      finding: (kind, detail) => findings.push({ kind, detail, inputs: [described] }),
      track: (resource) => {
        resources.add(resource);
        if (abort.signal.aborted) resource.destroy();
        return resource;
      },
    };
    const timer = setTimeout(() => {
      // a deadline for a hang, not a wait for an event
      findings.push({
        kind: 'hang',
        detail: `no answer and no close within ${attackTimeoutMs} ms`,
        inputs: [described],
      });
      cut();
    }, attackTimeoutMs);
    try {
      await attack.run(context);
    } catch (error) {
      // An attack's own failure is a bug in the suite, not in the router: report it as is.
      if (!abort.signal.aborted) throw new Error(`${described} failed`, { cause: error });
    } finally {
      clearTimeout(timer);
      this.#running.delete(cut);
      for (const resource of resources) resource.destroy();
    }
  }
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const frame = error.stack?.split('\n').find((line) => line.includes(' at '));
  // "at Receiver.getInfo (/…/node_modules/.pnpm/ws@8/node_modules/ws/lib/receiver.js:278:28)"
  const where = frame
    ?.trim()
    .replace(/\(.*node_modules\/(?!\.pnpm)/, '(')
    .replace(/:\d+\)$/, ')');
  return `${error.name}${code ? ` ${code}` : ''}: ${error.message}${where ? ` (${where})` : ''}`;
}

/**
 * Groups findings of one kind whose details differ only in numbers (an opcode, a close
 * code), with how often each happened and a few of the inputs behind it.
 */
export function summarizeFindings(findings: readonly Finding[]): string[] {
  const groups = new Map<string, { detail: string; count: number; inputs: Set<string> }>();
  for (const { kind, detail, inputs } of findings) {
    const key = `${kind}: ${detail.replace(/\d+/g, '#')}`;
    const group = groups.get(key) ?? { detail: `${kind}: ${detail}`, count: 0, inputs: new Set() };
    group.count++;
    for (const input of inputs) if (group.inputs.size < 8) group.inputs.add(input);
    groups.set(key, group);
  }
  return [...groups.values()].map(
    ({ detail, count, inputs }) =>
      `${detail} (×${count})\n      after: ${[...inputs].join('\n             ')}`,
  );
}
