/**
 * The query scenario's load: `concurrency` clients, each sending the next of the spec's
 * requests as soon as it has its answer, over keep-alive connections; every answer is
 * checked against its request's. Runs in
 * the load process (bench/load.ts).
 */
import { Agent, request } from 'node:http';
import { Histogram } from '../histogram.js';
import { checkpoint } from './ipc.js';
import { AnswerChecker, answerFaults, type AnswerFault } from './query-check.js';
import type { QueryLoadResult, QuerySpec } from './query-protocol.js';

interface Answer {
  status: number;
  body: string;
}

export async function runQueries(spec: QuerySpec): Promise<QueryLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const url = new URL(spec.url);
  const requests = spec.requests.map(({ body, expected }) => ({
    body: Buffer.from(body),
    checker: new AnswerChecker(expected),
  }));
  let next = 0;
  const send = (body: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          agent,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'content-length': body.length,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const latency = new Histogram();
  const faults = Object.fromEntries(answerFaults.map((f) => [f, 0])) as Record<AnswerFault, number>;
  let firstFault: string | undefined;
  let measuring = false;
  let answered = 0;
  let lastAnswer = 0;
  let stopAt = Number.POSITIVE_INFINITY;

  const client = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const inWindow = measuring;
      const { body, checker } = requests[next++ % requests.length]!;
      const sentAt = performance.now();
      let fault: AnswerFault | undefined;
      let detail = '';
      try {
        const answer = await send(body);
        fault = checker.check(answer.status, answer.body);
        detail = `${answer.status} ${answer.body.slice(0, 300)}`;
      } catch (error) {
        fault = 'network';
        detail = (error as Error).message;
      }
      const now = performance.now();
      if (fault && firstFault === undefined) firstFault = `${fault}: ${detail}`;
      if (!inWindow) continue;
      answered += 1;
      lastAnswer = now;
      latency.record(now - sentAt);
      if (fault) faults[fault] += 1;
    }
  };

  try {
    stopAt = performance.now() + spec.warmupMs + spec.durationMs;
    const clients = Array.from({ length: spec.concurrency }, client);
    await new Promise((resolve) => setTimeout(resolve, spec.warmupMs));
    await checkpoint('measure-start');
    // The checkpoint took a moment: the window is the full duration from here.
    const startedAt = performance.now();
    stopAt = startedAt + spec.durationMs;
    measuring = true;
    await Promise.all(clients);
    await checkpoint('measure-end');
    return {
      answered,
      windowMs: (answered > 0 ? lastAnswer : performance.now()) - startedAt,
      latency: latency.summary(),
      faults,
      ...(firstFault !== undefined && { firstFault }),
    };
  } finally {
    agent.destroy();
  }
}
