/**
 * The fuzz suite: more than 10,000 hostile inputs, generated from a seed, across every
 * transport (graphql-transport-ws, the legacy graphql-ws, SSE, multipart, GraphQL over
 * HTTP) while one victim subscriber per protocol must receive every event, exactly once
 * and in order. Afterwards the router must be healthy, hold only the victims'
 * subscriptions (in its own count and on the NATS server), and have its heap back near
 * the baseline; then each victim gets one more event.
 *
 * Environment:
 *   FUZZ_SEED=<n>         replay a run; every run prints its seed, and failures repeat it
 *   FUZZ_ITERATIONS=<n>   aim at about n hostile inputs instead of the default ~20,000
 *   FUZZ_SOAK=1           a soak: 300,000 inputs (unless FUZZ_ITERATIONS says otherwise),
 *                         with a time budget of 30 minutes
 *   FUZZ_ONLY=<list>      only these attacks (`ws:flood`) or single runs (`ws:flood#1234`,
 *                         as failures name them; same seed, iterations and code)
 *   FUZZ_EXCLUDE=<tags>   leave out the inputs of failure classes being fixed; for local
 *                         runs only, CI runs them all. Tags (`Tags` in
 *                         test/support/fuzz/inputs.ts): legacy-ws-error, long-subject,
 *                         upgrade-reset, server-message, deep-nesting, reused-id,
 *                         huge-query-cache; reports mark inputs with them
 *   FUZZ_CONCURRENCY=<n>  attacks at once, each with one connection at a time (default 48)
 *
 *   FUZZ_SOAK=1 pnpm vitest run --project e2e test/fuzz.e2e.ts
 */
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { heapUsedAfterGc } from './support/heap.js';
import {
  closeReasons,
  openConnections,
  subscribedSubjects,
  type ClientConnection,
} from './support/nats-monitor.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import {
  Campaign,
  summarizeFindings,
  type Attack,
  type FuzzTarget,
} from './support/fuzz/campaign.js';
import { createAgent } from './support/fuzz/http-client.js';
import { httpBodyAttacks } from './support/fuzz/http-body-attacks.js';
import { httpRequestAttacks } from './support/fuzz/http-request-attacks.js';
import { ROOM_SUBSCRIPTION, VICTIM_ROOM } from './support/fuzz/inputs.js';
import { Random } from './support/fuzz/random.js';
import { startVictims, type Victim } from './support/fuzz/victims.js';
import { tokenAttacks } from './support/fuzz/token-attacks.js';
import { wsAttacks } from './support/fuzz/ws-attacks.js';
import { wsFrameAttacks } from './support/fuzz/ws-frame-attacks.js';

const env = process.env;
const list = (value: string | undefined): string[] =>
  value ? value.split(',').map((s) => s.trim()) : [];
const SEED = env['FUZZ_SEED'] ? Number(env['FUZZ_SEED']) : randomInt(2 ** 31);
const SOAK = env['FUZZ_SOAK'] === '1';
/** What the default schedule sends, roughly; FUZZ_ITERATIONS scales the schedule from it. */
const DEFAULT_INPUTS = 20_000;
const ITERATIONS = Number(env['FUZZ_ITERATIONS'] ?? (SOAK ? 300_000 : DEFAULT_INPUTS));
const SCALE = ITERATIONS / DEFAULT_INPUTS;
const ONLY = list(env['FUZZ_ONLY']);
const EXCLUDED = new Set(list(env['FUZZ_EXCLUDE']));
const CONCURRENCY = Number(env['FUZZ_CONCURRENCY'] ?? 48);
/** The default run must send this many; a narrowed run (only, exclude) anything. */
const MINIMUM_INPUTS =
  ONLY.length > 0 || EXCLUDED.size > 0 ? 0 : Math.round(10_000 * Math.min(SCALE, 1));
/**
 * The default run takes about 25 s alone on a 2-core machine; the budget leaves room for the
 * other test file that runs beside it (and a busy machine) before it calls the run stuck.
 */
const BUDGET_MS = SOAK ? 30 * 60_000 : Math.max(35_000, 4.5 * ITERATIONS);
/** An attack that takes longer is a hang: the router neither answered nor closed. */
const ATTACK_TIMEOUT_MS = 15_000;
/** How long a published event may take to reach every victim, however busy the router. */
const DELIVERY_TIMEOUT_MS = 10_000;
/** Generous, so that it is not flaky, yet far below a leak of every connection. */
const HEAP_SLACK_BYTES = 50 * 1024 * 1024;
/** Hostile inputs between two bursts of 1–5 events to the victims. */
const INPUTS_PER_BURST = 15;
const VICTIM_SUBJECT = `room.${VICTIM_ROOM}.messages`;
const REPLAY =
  `FUZZ_SEED=${SEED}${env['FUZZ_ITERATIONS'] || SOAK ? ` FUZZ_ITERATIONS=${ITERATIONS}` : ''}` +
  ' (one attack alone: add FUZZ_ONLY=<name#index> as listed)';

describe('fuzzing every transport', () => {
  let stack: TestStack;
  let target: FuzzTarget;
  let victims: Victim[];
  let campaign: Campaign;
  let attacks: readonly Attack[];
  const agent = createAgent();
  const published: string[] = [];
  const loggedErrors = new Map<string, number>();
  let baseline: { heap: number; subjects: number; nats: ClientConnection[] };

  /** Publishes the next numbered event on the victims' room. */
  const publish = (): string => {
    const id = `v-${published.length}`;
    published.push(id);
    stack.publish(VICTIM_SUBJECT, { __typename: 'Message', id });
    return id;
  };

  /** Resolves when every victim has `id`; rejects naming those that did not in time. */
  const delivered = async (id: string): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // a deadline for a hang, not a wait for an event
        const late = victims.filter((v) => !v.ids.includes(id)).map((v) => v.protocol);
        reject(
          new Error(`${late.join(', ')} did not receive ${id} within ${DELIVERY_TIMEOUT_MS} ms`),
        );
      }, DELIVERY_TIMEOUT_MS);
    });
    try {
      await Promise.race([Promise.all(victims.map((v) => v.received(id))), deadline]);
    } finally {
      clearTimeout(timer);
    }
  };

  const routerConnection = async (): Promise<ClientConnection[]> =>
    openConnections(stack.nats!.monitorUrl, 'edfs-router');

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED}: replay with ${REPLAY}`);
    stack = await startTestStack();
    const { port } = stack.router;
    target = {
      host: '127.0.0.1',
      port,
      url: `http://127.0.0.1:${port}/graphql`,
      wsUrl: `ws://127.0.0.1:${port}/graphql`,
    };
    victims = startVictims({
      url: target.url,
      query: ROOM_SUBSCRIPTION,
      variables: { roomID: VICTIM_ROOM },
    });
    await stack.subscriptionsOpen(victims.length);
    await stack.subscribedOn(VICTIM_SUBJECT); // the room's stream consumer is in place
    await delivered(publish());
    const subscribed = { subjects: stack.router.subjects, nats: await routerConnection() };

    // graphql-ws logs every socket error it closes a connection for; count them instead.
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      const line = String(args[0]).split('\n', 1)[0]!;
      loggedErrors.set(line, (loggedErrors.get(line) ?? 0) + 1);
    });
    attacks = [
      ...wsAttacks,
      ...wsFrameAttacks,
      ...httpBodyAttacks(agent),
      ...httpRequestAttacks(agent),
      ...tokenAttacks(agent),
    ];
    campaign = new Campaign({
      seed: SEED,
      target,
      concurrency: CONCURRENCY,
      attackTimeoutMs: ATTACK_TIMEOUT_MS,
      excluded: EXCLUDED,
      only: ONLY,
    });
    // Warm up (every attack once) and fill the operation cache to its bound of 1,000, so
    // the heap's baseline already holds what a healthy router keeps.
    await campaign.play(attacks, 0, Date.now() + BUDGET_MS);
    await fillOperationCache();
    baseline = { ...subscribed, heap: await heapUsedAfterGc() };
  }, 120_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    await Promise.all((victims ?? []).map((victim) => victim.close()));
    agent.destroy();
    await stack?.close();
  });

  /** 1,000 distinct small operations, half of them subscriptions (planned, never run). */
  async function fillOperationCache(): Promise<void> {
    const post = (query: string) =>
      fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      }).then((response) => response.arrayBuffer());
    for (let i = 0; i < 1_000; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          post(
            (i + j) % 2 === 0
              ? `subscription { messageAdded(roomID: "fill-${i + j}") { id } }`
              : `{ f${i + j}: __typename }`,
          ),
        ),
      );
    }
  }

  it(
    `sends at least ${MINIMUM_INPUTS} hostile inputs without a crash, a hang or an internal error`,
    async () => {
      const started = Date.now();
      let finished = false;
      const publishing = (async () => {
        const rng = new Random(SEED, -2);
        while (!finished) {
          // What was sent since the last delivery is what a lost event is blamed on.
          const suspects = campaign.recentInputs();
          for (let i = rng.range(1, 5); i > 1; i--) publish();
          try {
            await delivered(publish());
          } catch (error) {
            // Stop publishing, not attacking: the other failures still get found.
            campaign.blame('victim', (error as Error).message, suspects);
            return;
          }
          // Events follow the attacks' pace, not as fast as the router takes them.
          await campaign.reached(campaign.total + INPUTS_PER_BURST);
        }
      })();
      // If attacks outlive their own time limits, say which before the test times out.
      const watchdog = setTimeout(
        // a deadline for a hang, not a wait for an event
        () => console.log(`still running:\n  ${campaign.inFlight().join('\n  ')}`),
        BUDGET_MS + 2 * ATTACK_TIMEOUT_MS,
      );
      try {
        await campaign.play(attacks, SCALE, started + BUDGET_MS);
      } finally {
        clearTimeout(watchdog);
        finished = true;
        await publishing;
        agent.destroy();
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const counts = [...campaign.inputs].sort(([a], [b]) => a.localeCompare(b));
      console.log(
        [
          `fuzz: ${campaign.total} hostile inputs in ${seconds} s, ${published.length} events published (seed ${SEED})`,
          ...counts.map(([name, count]) => `  ${name.padEnd(26)} ${count}`),
          ...[...campaign.tagged].map(
            ([tag, { count, first }]) =>
              `  of them [${tag}] ×${count}, first ${first.slice(0, 140)}`,
          ),
          ...[...loggedErrors].map(
            ([line, count]) => `  console.error ×${count}: ${line.slice(0, 120)}`,
          ),
        ].join('\n'),
      );

      const problems = summarizeFindings(campaign.findings);
      if (campaign.stopReason) problems.unshift(`stopped early: ${campaign.stopReason}`);
      const reasons = await closeReasons(stack.nats!.monitorUrl, 'edfs-router');
      if (reasons.length > 0)
        problems.push(`NATS closed the router's connection: ${reasons.slice(0, 5).join('; ')}`);
      // The message alone lists them; a diff of the same list would print it twice.
      expect(problems.length, `replay with ${REPLAY}\n  ${problems.join('\n  ')}\n`).toBe(0);
      expect(campaign.total).toBeGreaterThanOrEqual(MINIMUM_INPUTS);
    },
    BUDGET_MS + 60_000,
  );

  it('delivered every event to every victim exactly once, in order', () => {
    const report = victims.flatMap((victim) => {
      const lines = victim.problems.slice(0, 5).map((problem) => `${victim.protocol}: ${problem}`);
      if (victim.ids.join() !== published.join()) {
        const missing = published.filter((id) => !victim.ids.includes(id));
        const extra = victim.ids.length - (published.length - missing.length);
        lines.push(
          `${victim.protocol}: got ${victim.ids.length} of ${published.length} events; missing ` +
            `${missing.length} (${missing.slice(0, 5).join(', ')}…), ${extra} duplicate or out of order`,
        );
      }
      return lines;
    });
    expect(report, `replay with ${REPLAY}`).toEqual([]);
  });

  it('answers GET /health with 200', async () => {
    const health = `http://127.0.0.1:${stack.router.port}/health`;
    // A router that lost NATS during the run may take a reconnect interval to come back.
    await waitFor('the router to be healthy', async () => (await fetch(health)).ok, 5_000).catch(
      () => undefined,
    );
    const response = await fetch(health);
    expect(await response.json()).toEqual({
      status: 'ok',
      nats: 'connected',
      providers: { default: 'connected' },
    });
    expect(response.status).toBe(200);
  });

  it('holds only the victims’ subscriptions again, in the router and on NATS', async () => {
    const router = stack.router;
    const settled = async (): Promise<boolean> => {
      const nats = await routerConnection();
      return (
        router.subscriptions === victims.length &&
        router.subjects === baseline.subjects &&
        JSON.stringify(nats) === JSON.stringify(baseline.nats)
      );
    };
    // Closes may still be propagating: give them time, then compare for the full picture.
    await waitFor('the subscriptions to return to their baseline', settled, 10_000).catch(
      () => undefined,
    );
    const subjects = await subscribedSubjects(stack.nats!.monitorUrl, 'edfs-router');
    const held = subjects.filter((subject) => subject !== VICTIM_SUBJECT).slice(0, 20);
    expect(
      {
        subscriptions: router.subscriptions,
        subjects: router.subjects,
        groups: router.groups,
        nats: await routerConnection(),
      },
      `NATS subjects besides the victims': ${held.map((s) => JSON.stringify(s.slice(0, 40))).join(', ') || 'none'}`,
    ).toEqual({
      subscriptions: victims.length,
      subjects: baseline.subjects,
      groups: 1,
      nats: baseline.nats,
    });
  });

  it('returns its heap to near the baseline', async () => {
    const heap = await heapUsedAfterGc();
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    console.log(`heap: ${mb(baseline.heap)} before, ${mb(heap)} after`);
    expect(heap, `heap grew from ${mb(baseline.heap)} to ${mb(heap)}`).toBeLessThan(
      baseline.heap + HEAP_SLACK_BYTES,
    );
  });

  it('still delivers to every victim', async () => {
    await delivered(publish());
  });
});
